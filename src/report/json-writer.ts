import type { ReportWriter } from './report-writer.js';

/** The JSON contract of DESIGN.md (`schemaVersion: 1`), pretty-printed. */
export const jsonWriter: ReportWriter = {
  write(report) {
    return `${JSON.stringify(report, null, 2)}\n`;
  },
};
