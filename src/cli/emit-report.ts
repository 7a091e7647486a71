import type { ScanReport, Severity } from '../core/scan-report.js';
import { isAtLeast } from '../core/severity.js';
import type { ReportFormat } from '../report/report-writer.js';
import { summarizeReport } from '../report/summarize-report.js';
import { writers } from '../report/writers.js';
import { exitCodes } from './exit-codes.js';
import { writeOutput } from './write-output.js';

export interface EmitOptions {
  format: ReportFormat;
  output: string | undefined;
  quiet: boolean;
  failOn: Severity | 'none';
  /** `performance.now()` when the command started, for the summary line. */
  startedMs: number;
}

/**
 * Writes a finished report where the user asked (stdout, or `--output` atomically), the summary
 * line to stderr, and returns the exit code `--fail-on` calls for. Shared by every command that
 * ends in a report, so their output and exit codes cannot drift apart.
 */
export async function emitReport(report: ScanReport, options: EmitOptions): Promise<number> {
  const color = options.output === undefined && process.stdout.isTTY && !('NO_COLOR' in process.env);
  const text = writers[options.format].write(report, { color });
  if (options.output === undefined) process.stdout.write(text);
  else await writeOutput(options.output, text);
  if (!options.quiet) {
    const seconds = ((performance.now() - options.startedMs) / 1000).toFixed(1);
    const where = options.output === undefined ? '' : `; report written to ${options.output}`;
    process.stderr.write(`leakwatch: ${summarizeReport(report)} in ${seconds} s${where}\n`);
  }
  const { failOn } = options;
  const failing = failOn !== 'none' && report.targets.some((t) => isAtLeast(t.severity, failOn));
  return failing ? exitCodes.findings : exitCodes.ok;
}
