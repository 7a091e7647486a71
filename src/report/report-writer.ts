import type { ScanReport } from '../core/scan-report.js';

export const reportFormats = ['table', 'json', 'jsonl', 'sarif', 'markdown', 'html'] as const;
export type ReportFormat = (typeof reportFormats)[number];

export interface WriteOptions {
  /** ANSI colours; only for a terminal. */
  color: boolean;
}

/** One per format: gets a finished report, returns the text (STYLE.md: a writer is one `write()`). */
export interface ReportWriter {
  write(report: ScanReport, options: WriteOptions): string;
}
