import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScanReport } from '../../src/core/scan-report.js';
import { reportFormats } from '../../src/report/report-writer.js';
import { expectValidReport } from '../report-schema.js';
import { runCli } from '../run-cli.js';

let dir: string;
const file = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lw-classify-'));
  writeFileSync(
    file('accounts.jsonl'),
    Array.from({ length: 5 }, (_, i) =>
      JSON.stringify({ user_id: i, email: `user${i}@example.org`, cams: [{ mac: '00:1A:2B:3C:4D:5E' }] }),
    ).join('\n'),
  );
  writeFileSync(file('people.csv'), 'email,phone,wifi_ssid\r\na@example.org,+14155552671,"Home, 5G"\r\n');
  writeFileSync(file('devices.tsv'), 'model\tfirmware\nCAM-V3\t4.9.6.156\nCAM-V2\t4.1.0\n');
  writeFileSync(
    file('search.json'),
    JSON.stringify({
      took: 2,
      hits: {
        total: { value: 3 },
        hits: [
          { _index: 'users', _id: '1', _source: { email: 'x@example.org' } },
          { _index: 'users', _id: '2', _source: { email: 'y@example.org' } },
          { _index: 'devices', _id: '9', _source: { mac: '00:1A:2B:3C:4D:5F' } },
        ],
      },
    }),
  );
  writeFileSync(
    file('bulk.ndjson'),
    '{"index":{"_index":"users","_id":"1"}}\n{"email":"z@example.org"}\n{"delete":{"_index":"users","_id":"2"}}\n',
  );
  writeFileSync(file('list.json'), JSON.stringify([{ a: 1 }, { a: 2 }, { a: 3 }]));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function targets(stdout: string): ScanReport['targets'] {
  const report = JSON.parse(stdout) as ScanReport;
  expectValidReport(report);
  return report.targets;
}

describe('leakwatch classify (CLI)', () => {
  it('prints one target per file, protocol "file", with collections and record counts', async () => {
    const names = ['accounts.jsonl', 'people.csv', 'devices.tsv', 'search.json', 'bulk.ndjson', 'list.json'];
    const run = await runCli(['classify', ...names.map(file), '-f', 'json', '--fail-on', 'none']);
    expect(run.code).toBe(0);
    const list = targets(run.stdout);
    expect(list.map((t) => [t.target, t.protocol, t.status])).toEqual(
      names.map((n) => [file(n), 'file', 'open']),
    );
    expect(list.map((t) => t.collections)).toEqual([
      [{ name: 'accounts', records: 5 }],
      [{ name: 'people', records: 1 }],
      [{ name: 'devices', records: 2 }],
      [
        { name: 'users', records: 2 },
        { name: 'devices', records: 1 },
      ],
      [{ name: 'users', records: 1 }],
      [{ name: 'list', records: 3 }],
    ]);
    expect(list.map((t) => t.detail.split(':')[0])).toEqual([
      'JSON Lines',
      'CSV',
      'TSV',
      'Elasticsearch search response',
      'Elasticsearch bulk',
      'JSON',
    ]);
    expect(list[0]?.size).toMatchObject({ collections: 1, records: 5 });
    expect(new Set(list.map((t) => t.fingerprint)).size).toBe(names.length);
    expect(run.stderr).toContain('6 targets: 6 open');
  });

  it('reads stdin as -, with a forced --input-format, and stops at --limit', async () => {
    const stdin = Array.from({ length: 10 }, (_, i) => `{"n":${i}}`).join('\n');
    const run = await runCli(
      ['classify', '-', '--input-format', 'ndjson', '--limit', '4', '-f', 'json', '-q'],
      {
        stdin,
      },
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const [target] = targets(run.stdout);
    expect(target).toMatchObject({ target: 'stdin', collections: [{ name: 'stdin', records: 4 }] });
    expect(target?.size).toMatchObject({ records: 4, approximate: true });
    expect(target?.detail).toContain('stopped at --limit');
  });

  it('renders every --format and writes --output to a file with nothing on stdout', async () => {
    const runs = await Promise.all(
      reportFormats.map((format) => runCli(['classify', file('people.csv'), '-f', format, '-q'])),
    );
    runs.forEach((run, i) => {
      expect(run.code, reportFormats[i]).not.toBe(2);
      expect(run.stdout, reportFormats[i]).toContain('people.csv');
    });
    const out = file('report.json');
    const run = await runCli(['classify', file('list.json'), '-f', 'json', '-o', out]);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`report written to ${out}`);
    expect(targets(readFileSync(out, 'utf8'))).toHaveLength(1);
  });

  it('exits 1 at or above --fail-on, and keeps going past files that fail', async () => {
    const run = await runCli([
      'classify',
      file('missing.csv'),
      file('list.json'),
      '--fail-on',
      'low',
      '-f',
      'jsonl',
      '-q',
    ]);
    expect(run.code).toBe(1);
    const lines = run.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { status: string; detail: string; severity: string });
    expect(lines.map((l) => [l.status, l.detail.split(';')[0]])).toEqual([
      ['error', 'no such file'],
      ['open', 'JSON: 3 records in 1 collection'],
    ]);
  });

  it('exits 2 for usage errors: no files, unknown flags, bad values, stdin twice', async () => {
    const cases = [
      ['classify'],
      ['classify', file('list.json'), '--bogus'],
      ['classify', file('list.json'), '--input-format', 'xml'],
      ['classify', file('list.json'), '--limit', '0'],
      ['classify', '-', '-'],
    ];
    const runs = await Promise.all(cases.map((args) => runCli(args)));
    for (const [i, run] of runs.entries()) {
      const args = cases[i] ?? [];
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stdout, args.join(' ')).toBe('');
      expect(run.stderr.length, args.join(' ')).toBeGreaterThan(0);
    }
  });

  it('documents itself in --help', async () => {
    const run = await runCli(['classify', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('--input-format');
    expect(run.stdout).toContain('Examples:');
    expect(run.stdout).toContain('leakwatch classify users.jsonl');
  });
});
