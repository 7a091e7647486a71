import { describe, expect, it } from 'vitest';
import type { ScanReport } from '../core/scan-report.js';
import { expectValidReport } from '../../test/report-schema.js';
import { expectValidSarif } from '../../test/sarif-schema.js';
import { reportFormats } from './report-writer.js';
import { writers } from './writers.js';

const report: ScanReport = {
  schemaVersion: 1,
  tool: { name: 'leakwatch', version: '0.1.0' },
  startedAt: '2026-11-21T10:00:00.000Z',
  finishedAt: '2026-11-21T10:00:02.000Z',
  targets: [
    {
      target: 'elasticsearch://127.0.0.1:9200',
      protocol: 'elasticsearch',
      status: 'open',
      detail: '_cat/indices readable without credentials',
      server: { product: 'elasticsearch', version: '7.4.0' },
      size: { collections: 2, records: 2_400_000, bytes: 51_234_567 },
      indicators: [],
      collections: [
        { name: 'users|<script>alert(1)</script>', records: 2_399_000, bytes: 50_000_000 },
        { name: 'devices', records: 1000 },
      ],
      fields: [
        {
          collection: 'users|<script>alert(1)</script>',
          path: 'email',
          categories: ['email'],
          records: 2_399_000,
          subjects: 117_950,
          confidence: 0.98,
          example: 'j***@e***.com',
        },
        {
          collection: 'users|<script>alert(1)</script>',
          path: 'alexa.access_token',
          categories: ['oauth_token'],
          records: 24_000,
          subjects: 24_000,
          confidence: 0.99,
          example: 'Atza|…[412]',
        },
      ],
      subjects: { total: 117_950, byCategory: { email: 117_950, oauth_token: 24_000 } },
      severity: 'critical',
      fingerprint: '0123456789abcdef0123456789abcdef',
      durationMs: 12,
    },
    {
      target: 'redis://127.0.0.1:6380',
      protocol: 'redis',
      status: 'auth-required',
      detail: 'redis requires a password (NOAUTH Authentication required.)',
      indicators: [],
      collections: [],
      fields: [],
      subjects: { total: 0, byCategory: {} },
      severity: 'info',
      fingerprint: 'fedcba9876543210fedcba9876543210',
    },
  ],
};

describe('report writers', () => {
  it('has a writer for every format', () => {
    expect(Object.keys(writers).sort()).toEqual([...reportFormats].sort());
  });

  it('json is the contract of DESIGN.md', () => {
    const parsed: unknown = JSON.parse(writers.json.write(report, { color: false }));
    expectValidReport(parsed);
    expect(parsed).toEqual(report);
  });

  it('jsonl has one parseable target per line', () => {
    const lines = writers.jsonl.write(report, { color: false }).trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(first.schemaVersion).toBe(1);
    expect(first.target).toBe('elasticsearch://127.0.0.1:9200');
    expect(first.status).toBe('open');
  });

  it('the SARIF check rejects what is not SARIF', () => {
    expect(() => {
      expectValidSarif({ version: '3.0', runs: 'none' });
    }).toThrow();
  });

  it('sarif is valid SARIF 2.1.0 with one result per open store', () => {
    const log = JSON.parse(writers.sarif.write(report, { color: false })) as {
      runs: { results: { ruleId: string; level: string; partialFingerprints: Record<string, string> }[] }[];
    };
    expectValidSarif(log);
    const results = log.runs[0]?.results ?? [];
    expect(results).toHaveLength(1);
    expect(results[0]?.ruleId).toBe('LW001');
    expect(results[0]?.level).toBe('error');
    expect(JSON.stringify(results[0])).toContain('Exposes 117950 people: email 117,950 · oauth_token 24,000');
    expect(results[0]?.partialFingerprints['leakwatch/v1']).toBe('0123456789abcdef0123456789abcdef');
  });

  it('markdown escapes what a target could use to inject markup', () => {
    const text = writers.markdown.write(report, { color: false });
    expect(text).not.toContain('<script>');
    expect(text).toContain('users\\|\\<script\\>');
    expect(text).toContain('| elasticsearch://127.0.0.1:9200 | elasticsearch | **open** | critical |');
    expect(text).toContain('2,399,000');
    expect(text).toContain('**117,950 people** exposed: email 117,950 · oauth_token 24,000.');
    expect(text).toContain(
      '| alexa.access\\_token | oauth_token | 24,000 | 24,000 | 0.99 | `Atza\\|…[412]` |',
    );
  });

  it('shows indicators next to the status in every format', () => {
    const wiped: ScanReport = {
      ...report,
      targets: [
        {
          target: 'redis://127.0.0.1:6390',
          protocol: 'redis',
          status: 'open',
          detail: 'redis answers without a password; ransom note: a sampled record asks for bitcoin',
          size: { collections: 1, records: 1 },
          indicators: ['ransom-note', 'honeypot-suspected'],
          collections: [{ name: 'READ_ME_TO_RECOVER_YOUR_DATA', records: 1 }],
          fields: [],
          subjects: { total: 0, byCategory: {} },
          severity: 'low',
          fingerprint: '00112233445566778899aabbccddeeff',
        },
      ],
    };
    const json = JSON.parse(writers.json.write(wiped, { color: false })) as ScanReport;
    expectValidReport(json);
    expect(json.targets[0]?.indicators).toEqual(['ransom-note', 'honeypot-suspected']);
    const line = JSON.parse(writers.jsonl.write(wiped, { color: false }).trim()) as { indicators: string[] };
    expect(line.indicators).toEqual(['ransom-note', 'honeypot-suspected']);
    expect(writers.table.write(wiped, { color: false })).toContain('open [ransom-note,');
    expect(writers.markdown.write(wiped, { color: false })).toContain(
      '| **open** (ransom-note, honeypot-suspected) | low |',
    );
    const sarif = JSON.parse(writers.sarif.write(wiped, { color: false })) as {
      runs: { results: { message: { text: string }; properties: { indicators: string[] } }[] }[];
    };
    expectValidSarif(sarif);
    const result = sarif.runs[0]?.results[0];
    expect(result?.message.text).toContain('Indicators: ransom-note, honeypot-suspected.');
    expect(result?.properties.indicators).toEqual(['ransom-note', 'honeypot-suspected']);
  });

  it('table lists every target with human sizes, and no colour codes unless asked', () => {
    const plain = writers.table.write(report, { color: false });
    expect(plain).toContain('elasticsearch://127.0.0.1:9200');
    expect(plain).toContain('2,400,000');
    expect(plain).toContain('48.9 MiB');
    expect(plain).toContain('2 targets: 1 open, 1 auth-required');
    expect(plain).toContain(
      'CRITICAL elasticsearch://127.0.0.1:9200 exposes email 117,950 · oauth_token 24,000',
    );
    expect(plain).not.toContain('\u001b[');
  });
});
