import type { ReportWriter } from './report-writer.js';

/**
 * JSON Lines: one target per line, each the `targets[]` entry of the JSON contract plus
 * `schemaVersion` and the run's `startedAt`, so lines from many runs can be concatenated and
 * filtered with `jq -c` or loaded into a log pipeline.
 */
export const jsonlWriter: ReportWriter = {
  write(report) {
    return report.targets
      .map(
        (target) =>
          `${JSON.stringify({ schemaVersion: report.schemaVersion, startedAt: report.startedAt, ...target })}\n`,
      )
      .join('');
  },
};
