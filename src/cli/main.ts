#!/usr/bin/env node
import { Command, CommanderError } from '@commander-js/extra-typings';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ScopeError, UsageError } from '../core/errors.js';
import { toolVersion } from '../core/version.js';
import { classifyCommand } from './classify-command.js';
import { exitCodes } from './exit-codes.js';
import { scanCommand, type CommandResult } from './scan-command.js';
import { serveCommand } from './serve-command.js';
import { incidentCommand } from './incident-command.js';
import { revokeCommand } from './revoke-command.js';
import { notifyCommand } from './notify-command.js';
import { noticeCommand } from './notice-command.js';
import { historyCommand, statusCommand } from './status-command.js';
import { watchCommand } from './watch-command.js';
import { workerCommand } from './worker-command.js';

/** Runs the CLI on `argv` (without node and script) and returns the exit code; never exits itself. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const result: CommandResult = { exitCode: exitCodes.ok };
  const program = new Command('leakwatch')
    .description(
      'Find data stores that answer without credentials, size them, and say what they expose.\n' +
        'Scan only what you are authorised to.',
    )
    .version(toolVersion, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) })
    .addCommand(scanCommand(result).exitOverride())
    .addCommand(classifyCommand(result).exitOverride())
    .addCommand(watchCommand(result).exitOverride())
    .addCommand(workerCommand(result).exitOverride())
    .addCommand(statusCommand(result).exitOverride())
    .addCommand(historyCommand(result).exitOverride())
    .addCommand(incidentCommand(result).exitOverride())
    .addCommand(notifyCommand(result).exitOverride())
    .addCommand(revokeCommand(result).exitOverride())
    .addCommand(serveCommand(result).exitOverride())
    .addCommand(noticeCommand(result).exitOverride());
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return result.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here too, with exit code 0.
      return error.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
    }
    if (error instanceof UsageError || error instanceof ScopeError) {
      process.stderr.write(`leakwatch: ${error.message}\n`);
      return exitCodes.usage;
    }
    process.stderr.write(
      `leakwatch: internal error (a bug; please report it): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return exitCodes.internal;
  }
}

// Run only as the entry point (also through npm's bin symlink), not when a test imports runCli.
const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(realpathSync(entry)).href) {
  process.exitCode = await runCli(process.argv.slice(2));
}
