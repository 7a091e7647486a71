import { sanitizeText } from '../core/redact.js';
import type { TargetReport } from '../core/scan-report.js';
import { describeExposure } from './describe-exposure.js';
import { formatBytes, formatCount } from './format-size.js';
import type { ReportWriter } from './report-writer.js';
import { summarizeReport } from './summarize-report.js';

// Text from a target must not become markup: escape what GitHub-flavoured Markdown and HTML act on.
function cell(text: string): string {
  return sanitizeText(text, 300).replace(/[\\`*_[\]<>|#&]/g, (c) => `\\${c}`);
}

const maxCollectionsListed = 25;

// A code span shows its text literally, but GFM still splits table cells on `|` unless escaped.
function codeCell(text: string): string {
  return `\`${sanitizeText(text, 80).replace(/`/g, "'").replace(/\|/g, '\\|')}\``;
}

const maxFieldsListed = 50;

function fieldsSection(target: TargetReport): string {
  if (target.fields.length === 0) return '';
  const rows = target.fields
    .slice(0, maxFieldsListed)
    .map(
      (f) =>
        `| ${cell(f.collection)} | ${cell(f.path)} | ${f.categories.join(', ')} | ${formatCount(f.records)} | ${formatCount(f.subjects)} | ${f.confidence.toFixed(2)} | ${f.example === undefined ? '' : codeCell(f.example)} |`,
    );
  const more = target.fields.length - maxFieldsListed;
  return [
    '',
    `**${formatCount(target.subjects.total)} people** exposed: ${describeExposure(target, 30)}.`,
    '',
    '| collection | field | categories | records | people | confidence | example (masked) |',
    '| --- | --- | --- | ---: | ---: | ---: | --- |',
    ...rows,
    ...(more > 0 ? ['', `…and ${more} more fields.`] : []),
    '',
  ].join('\n');
}

function collectionsSection(target: TargetReport): string {
  if (target.status !== 'open' || target.collections.length === 0) return fieldsSection(target);
  const rows = target.collections
    .slice(0, maxCollectionsListed)
    .map((c) => `| ${cell(c.name)} | ${formatCount(c.records)} | ${formatBytes(c.bytes)} |`);
  const more = target.collections.length - maxCollectionsListed;
  return `${[
    '',
    `### ${cell(target.target)}`,
    '',
    '| collection | records | size |',
    '| --- | ---: | ---: |',
    ...rows,
    ...(more > 0 ? ['', `…and ${more} more.`] : []),
    '',
  ].join('\n')}${fieldsSection(target)}`;
}

/** A Markdown report for issues, pull requests and tickets. */
export const markdownWriter: ReportWriter = {
  write(report) {
    const lines = [
      '# Leakwatch scan report',
      '',
      `${summarizeReport(report)}. Started ${report.startedAt}, finished ${report.finishedAt}.`,
      '',
      '| target | protocol | status | severity | server | collections | records | size | detail |',
      '| --- | --- | --- | --- | --- | ---: | ---: | ---: | --- |',
      ...report.targets.map((t) =>
        [
          '',
          cell(t.target),
          t.protocol,
          t.indicators.length > 0 ? `**${t.status}** (${t.indicators.join(', ')})` : `**${t.status}**`,
          t.severity,
          cell(t.server ? `${t.server.product} ${t.server.version ?? ''}` : ''),
          formatCount(t.size?.collections),
          formatCount(t.size?.records, t.size?.approximate === true),
          formatBytes(t.size?.bytes),
          cell(t.detail),
          '',
        ]
          .join(' | ')
          .trim(),
      ),
    ];
    return `${lines.join('\n')}\n${report.targets.map(collectionsSection).join('')}`;
  },
};
