import { renderHtmlReport } from './html-report.js';
import type { ReportWriter } from './report-writer.js';

/** `--format html`: one self-contained page; the report's own finish time dates it, so it is reproducible. */
export const htmlWriter: ReportWriter = {
  write(report) {
    return renderHtmlReport({ generatedAt: report.finishedAt, report });
  },
};
