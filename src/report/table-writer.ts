import Table from 'cli-table3';
import pc from 'picocolors';
import { sanitizeText } from '../core/redact.js';
import type { ProbeStatus, Severity, TargetReport } from '../core/scan-report.js';
import { describeExposure } from './describe-exposure.js';
import { formatBytes, formatCount } from './format-size.js';
import type { ReportWriter } from './report-writer.js';
import { summarizeReport } from './summarize-report.js';

type Paint = (text: string) => string;

const statusPaint: Record<ProbeStatus, Paint> = {
  open: (t) => pc.bold(pc.red(t)),
  'auth-required': pc.green,
  unreachable: pc.dim,
  'other-protocol': pc.dim,
  error: pc.yellow,
};

const severityPaint: Record<Severity, Paint> = {
  critical: (t) => pc.bold(pc.magenta(t)),
  high: pc.red,
  medium: pc.yellow,
  low: pc.cyan,
  info: pc.dim,
};

// What the scan concluded beyond the status (a wiped store, a honeypot), right next to it.
function status(target: TargetReport): string {
  return target.indicators.length > 0 ? `${target.status} [${target.indicators.join(', ')}]` : target.status;
}

function server(target: TargetReport): string {
  if (!target.server) return '';
  return sanitizeText(`${target.server.product} ${target.server.version ?? ''}`, 40);
}

/** A terminal table, one row per target, then a summary line. */
export const tableWriter: ReportWriter = {
  write(report, options) {
    const paint = (fn: Paint, text: string): string => (options.color ? fn(text) : text);
    const table = new Table({
      head: [
        'TARGET',
        'PROTOCOL',
        'STATUS',
        'SEVERITY',
        'SERVER',
        'COLLECTIONS',
        'RECORDS',
        'SIZE',
        'PEOPLE',
        'DETAIL',
      ],
      style: { head: options.color ? ['bold'] : [], border: options.color ? ['grey'] : [] },
      wordWrap: true,
      colWidths: [null, null, null, null, null, null, null, null, null, 44],
    });
    for (const target of report.targets) {
      table.push([
        sanitizeText(target.target, 60),
        target.protocol,
        paint(statusPaint[target.status], status(target)),
        paint(severityPaint[target.severity], target.severity),
        server(target),
        formatCount(target.size?.collections),
        formatCount(target.size?.records, target.size?.approximate === true),
        formatBytes(target.size?.bytes),
        target.fields.length > 0 ? formatCount(target.subjects.total) : '',
        sanitizeText(target.detail, 140),
      ]);
    }
    // What each classified store exposes, in people per category: the line a responder reads first.
    const exposures = report.targets
      .filter((t) => t.fields.length > 0)
      .map(
        (t) =>
          `${paint(severityPaint[t.severity], t.severity.toUpperCase())} ${sanitizeText(t.target, 60)} exposes ${describeExposure(t)}`,
      );
    const exposureText = exposures.length > 0 ? `${exposures.join('\n')}\n` : '';
    return `${table.toString()}\n${exposureText}${summarizeReport(report)}\n`;
  },
};
