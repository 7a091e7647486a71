import { htmlWriter } from './html-writer.js';
import { jsonWriter } from './json-writer.js';
import { jsonlWriter } from './jsonl-writer.js';
import { markdownWriter } from './markdown-writer.js';
import type { ReportFormat, ReportWriter } from './report-writer.js';
import { sarifWriter } from './sarif-writer.js';
import { tableWriter } from './table-writer.js';

/** Every `--format`; a format without a writer is a compile error. */
export const writers = {
  table: tableWriter,
  json: jsonWriter,
  jsonl: jsonlWriter,
  sarif: sarifWriter,
  markdown: markdownWriter,
  html: htmlWriter,
} satisfies Record<ReportFormat, ReportWriter>;
