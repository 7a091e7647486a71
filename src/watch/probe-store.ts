import type { TargetReport } from '../core/scan-report.js';
import { runScan, type SampleOptions } from '../scan/run-scan.js';

export interface ProbeStoreOptions {
  timeoutMs: number;
  /** Sample and classify records (an open store whose classification is due). */
  sample?: SampleOptions;
  excludes?: readonly string[];
}

/**
 * One probe of one watched store through the scanner, so watch shares its scope check, timeouts,
 * read-only connectors and redaction. A watched target names one endpoint (checked when the store
 * is registered), so the report holds exactly one target.
 */
export async function probeStore(target: string, options: ProbeStoreOptions): Promise<TargetReport> {
  const report = await runScan({
    targets: [target],
    concurrency: 1,
    timeoutMs: options.timeoutMs,
    excludes: options.excludes ?? [],
    ...(options.sample === undefined ? {} : { sample: options.sample }),
  });
  const [first] = report.targets;
  if (first === undefined)
    throw new Error(`probing ${report.targets.length} endpoints for one watched store`);
  return first;
}
