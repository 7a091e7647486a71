import type { Severity, TargetReport } from '../core/scan-report.js';
import { describeExposure } from './describe-exposure.js';
import { formatBytes, formatCount } from './format-size.js';
import type { ReportWriter } from './report-writer.js';

// SARIF 2.1.0 (OASIS): https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html
const sarifSchema = 'https://json.schemastore.org/sarif-2.1.0.json';

type SarifLevel = 'error' | 'warning' | 'note';

const level: Record<Severity, SarifLevel> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};

// GitHub code scanning reads `security-severity` (0.0-10.0) to rank alerts.
const securitySeverity: Record<Severity, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  info: '0.0',
};

/** The rules Leakwatch reports under; ids are public interface, like category ids. */
const rules = [
  {
    id: 'LW001',
    name: 'OpenDataStore',
    shortDescription: { text: 'Data store readable without credentials' },
    fullDescription: {
      text: 'An anonymous client (or one with only the credentials named in the target) can read data from this store.',
    },
    help: {
      text: 'Require authentication on the store, bind it to a private interface, and check what was exposed and since when.',
    },
    defaultConfiguration: { level: 'error' as SarifLevel },
    properties: { tags: ['security', 'data-exposure'], 'security-severity': securitySeverity.high },
  },
];

function message(target: TargetReport): string {
  const server = target.server
    ? ` (${target.server.product} ${target.server.version ?? ''})`.replace(' )', ')')
    : '';
  const size = target.size
    ? `: ${formatCount(target.size.records, target.size.approximate === true) || '?'} records in ${formatCount(target.size.collections) || '?'} collections${target.size.bytes === undefined ? '' : `, ${formatBytes(target.size.bytes)}`}`
    : '';
  const exposure =
    target.fields.length > 0
      ? ` Exposes ${target.subjects.total} people: ${describeExposure(target, 29)}.`
      : '';
  const indicators = target.indicators.length > 0 ? ` Indicators: ${target.indicators.join(', ')}.` : '';
  return `${target.target} answers without credentials${server}${size}.${indicators}${exposure} ${target.detail}`;
}

/**
 * SARIF 2.1.0 for code-scanning dashboards: one result per open store (protected and unreachable
 * stores are not findings). The artifact is the target URI; the fingerprint tracks it across runs.
 */
export const sarifWriter: ReportWriter = {
  write(report) {
    const results = report.targets
      .filter((t) => t.status === 'open')
      .map((t) => ({
        ruleId: 'LW001',
        ruleIndex: 0,
        level: level[t.severity],
        message: { text: message(t) },
        locations: [{ physicalLocation: { artifactLocation: { uri: t.target } } }],
        partialFingerprints: { 'leakwatch/v1': t.fingerprint },
        properties: {
          severity: t.severity,
          'security-severity': securitySeverity[t.severity],
          protocol: t.protocol,
          ...(t.size ? { size: t.size } : {}),
          ...(t.server ? { server: t.server } : {}),
          indicators: t.indicators,
          subjects: t.subjects,
          categories: [...new Set(t.fields.flatMap((f) => f.categories))].sort(),
        },
      }));
    const log = {
      $schema: sarifSchema,
      version: '2.1.0',
      runs: [
        {
          tool: {
            driver: {
              name: report.tool.name,
              version: report.tool.version,
              semanticVersion: report.tool.version,
              rules,
            },
          },
          invocations: [
            { executionSuccessful: true, startTimeUtc: report.startedAt, endTimeUtc: report.finishedAt },
          ],
          results,
        },
      ],
    };
    return `${JSON.stringify(log, null, 2)}\n`;
  },
};
