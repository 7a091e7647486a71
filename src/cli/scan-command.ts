import { Command, Option, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { UsageError } from '../core/errors.js';
import { runScan, scanDefaults } from '../scan/run-scan.js';
import { emitReport } from './emit-report.js';
import {
  collectList,
  parseDurationOption,
  parseFailOn,
  parseFormat,
  parseCount,
  parsePositiveInt,
} from './parse-options.js';
import { createProgressReporter } from './progress-reporter.js';
import { readTargetList } from './read-target-list.js';
import { openStore } from './store-access.js';

const examples = `
Targets:
  PROTOCOL://[user[:password]@]host[:port][/path]   one protocol: postgres, mysql, redis, mqtt,
                                                     elasticsearch|opensearch, mongodb, couchdb, memcached,
                                                     nats, amqp|rabbitmq, kafka, s3, kibana, http, https
  host | host:port | [v6]:port                       try every known protocol (default ports, or that port)
  127.0.0.0/28                                       every address of a network (see --max-hosts)
  Credentials are used only when you name them, and never printed.

Examples:
  $ leakwatch scan 127.0.0.1                         what answers on this machine's default ports
  $ leakwatch scan redis://127.0.0.1 --full          classify every record, not a sample of 1000
  $ leakwatch scan redis://127.0.0.1 postgres://127.0.0.1:5433/app
  $ leakwatch scan --targets fleet.txt --format sarif --output leakwatch.sarif
  $ leakwatch scan 127.0.0.1 --format html --output report.html   a page to read or share (loads nothing)
  $ leakwatch scan 127.0.0.0/28 --exclude 127.0.0.5 --format json | jq '.targets[] | select(.status=="open")'

Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 usage error, 3 internal error.
Scan only what you are authorised to.`;

const fullReadTimeoutMs = 10 * 60_000;

export interface CommandResult {
  exitCode: number;
}

/** `leakwatch scan`: probes targets and writes a report; `result.exitCode` says how it went. */
export function scanCommand(result: CommandResult): CommandUnknownOpts {
  return new Command('scan')
    .summary('find data stores that answer without credentials, and size them')
    .description(
      'Probe every target read-only and report, per store: whether an anonymous client can read it ' +
        '(open, auth-required, unreachable, other-protocol, error), the server and version, and how ' +
        'much it holds (collections, records, bytes).',
    )
    .argument('[targets...]', 'targets to scan (see below)')
    .option('--targets <file>', 'read targets from FILE, one per line (# comments; - for stdin)')
    .option(
      '-f, --format <format>',
      'table, json, jsonl, sarif, markdown or html',
      parseFormat,
      'table' as const,
    )
    .option('-o, --output <file>', 'write the report to FILE instead of stdout')
    .option(
      '--fail-on <severity>',
      'exit 1 when a store is at or above: critical, high, medium, low, info, none',
      parseFailOn,
      'high' as const,
    )
    .option(
      '-c, --concurrency <n>',
      'endpoints probed at once',
      parsePositiveInt(1024),
      scanDefaults.concurrency,
    )
    .addOption(
      new Option('-t, --timeout <duration>', 'time allowed per endpoint, e.g. 5s or 500ms')
        .argParser(parseDurationOption)
        .default(scanDefaults.timeoutMs, `${scanDefaults.timeoutMs / 1000}s`),
    )
    .option(
      '--exclude <host|cidr...>',
      'never contact these hosts or networks (repeatable, comma-separated)',
      collectList,
    )
    .option(
      '--max-hosts <n>',
      'refuse target lists or networks with more addresses',
      parsePositiveInt(1 << 24),
      scanDefaults.maxHosts,
    )
    .option(
      '--sample <n>',
      'classify open stores from N records per collection (0: size only, no classification)',
      parseCount,
      scanDefaults.sampleLimit,
    )
    .option('--full', 'classify every record of every collection (slow on large stores)')
    .addOption(
      new Option('--sample-timeout <duration>', 'time allowed to read records from one store')
        .argParser(parseDurationOption)
        .default(scanDefaults.sampleTimeoutMs, `${scanDefaults.sampleTimeoutMs / 1000}s`),
    )
    .option(
      '--try-default-credentials',
      "also try products' documented default accounts (RabbitMQ guest/guest) where a target names none",
    )
    .option(
      '--store <path|url>',
      'also record this run in the state store: a directory (e.g. .leakwatch) or postgres://…',
    )
    .option('-q, --quiet', 'no progress bar or summary on stderr')
    .addHelpText('after', examples)
    .action(async (positional, options, command) => {
      const targets = [...positional];
      if (options.targets !== undefined) targets.push(...(await readTargetList(options.targets)));
      if (targets.length === 0) {
        throw new UsageError('no targets: name some (e.g. leakwatch scan 127.0.0.1) or use --targets FILE');
      }
      const progress = createProgressReporter(options.quiet !== true);
      const started = performance.now();
      let report;
      try {
        report = await runScan({
          targets,
          excludes: options.exclude ?? [],
          concurrency: options.concurrency,
          timeoutMs: options.timeout,
          maxHosts: options.maxHosts,
          ...(options.tryDefaultCredentials === true ? { tryDefaultCredentials: true } : {}),
          ...(options.full === true || options.sample > 0
            ? {
                sample: {
                  limit: options.full === true ? Infinity : options.sample,
                  // A full read of a large store takes minutes: the default deadline grows, a given one stays.
                  timeoutMs:
                    options.full === true && command.getOptionValueSource('sampleTimeout') === 'default'
                      ? fullReadTimeoutMs
                      : options.sampleTimeout,
                },
              }
            : {}),
          onProgress: (p) => {
            progress.update(p);
          },
          onNote: (message) => {
            if (options.quiet !== true) process.stderr.write(`leakwatch: ${message}\n`);
          },
        });
      } finally {
        progress.stop();
      }
      if (options.store !== undefined) {
        const store = await openStore(options.store, 'scan');
        try {
          const id = await store.recordScan(report);
          if (options.quiet !== true)
            process.stderr.write(`leakwatch: recorded as scan ${id} in ${store.displayLocation}\n`);
        } finally {
          await store.close();
        }
      }
      result.exitCode = await emitReport(report, {
        format: options.format,
        output: options.output,
        quiet: options.quiet === true,
        failOn: options.failOn,
        startedMs: started,
      });
    });
}
