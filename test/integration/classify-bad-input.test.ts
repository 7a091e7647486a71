import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScanReport, TargetReport } from '../../src/core/scan-report.js';
import { expectValidReport } from '../report-schema.js';
import { runCli } from '../run-cli.js';

// Issue item 7: every hostile file ends with a clear error or a bounded result, never a crash, and
// memory stays bounded (peak RSS read from /proc/self/status VmHWM as the CLI process exits).
const root = fileURLToPath(new URL('../..', import.meta.url));
const reportPeak = encodeURIComponent(
  'import{readFileSync}from"node:fs";process.on("exit",()=>{const m=/VmHWM:\\s+(\\d+)/.exec(readFileSync("/proc/self/status","utf8"));process.stderr.write(`\\npeak-rss-kb ${m?.[1]}\\n`)})',
);

function runWithPeak(args: string[]): Promise<{ code: number | null; stdout: string; peakMb: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      // The hook goes first: tsx would try to transform a data: URL.
      ['--import', `data:text/javascript,${reportPeak}`, '--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: root, env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const kb = /peak-rss-kb (\d+)/.exec(stderr)?.[1];
      resolve({ code, stdout, peakMb: Number(kb) / 1024 });
    });
    child.stdin.end();
  });
}

const mib = 1024 * 1024;

/** Writes `prefix`, `megabytes` MiB of `x`, then `suffix`, without holding the value in memory. */
async function writeBig(path: string, prefix: string, megabytes: number, suffix: string): Promise<void> {
  const out = createWriteStream(path);
  const block = Buffer.alloc(mib, 'x');
  out.write(prefix);
  for (let i = 0; i < megabytes; i++)
    if (!out.write(block))
      await new Promise<void>((r) =>
        out.once('drain', () => {
          r();
        }),
      );
  await new Promise<void>((resolve, reject) => {
    out.end(suffix, resolve);
    out.on('error', reject);
  });
}

let dir: string;
const file = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lw-bad-'));
  const deep = (n: number) => `${'{"a":'.repeat(n)}"leaf"${'}'.repeat(n)}`;
  writeFileSync(file('deep.jsonl'), `${deep(10_000)}\n{"ok":1}\n`);
  writeFileSync(file('deep-array.json'), `[${deep(10_000)},{"ok":1}]`);
  writeFileSync(file('deep-object.json'), deep(10_000));
  writeFileSync(
    file('invalid-utf8.jsonl'),
    Buffer.concat([Buffer.from('{"name":"caf'), Buffer.from([0xe9, 0xff, 0xfe, 0xc0]), Buffer.from('"}\n')]),
  );
  writeFileSync(
    file('invalid-utf8.csv'),
    Buffer.concat([Buffer.from('name,city\n'), Buffer.from([0xc3, 0x28, 0x2c, 0xa0, 0xa1, 0x0a])]),
  );
  writeFileSync(file('binary.jsonl'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
  writeFileSync(
    file('ragged.csv'),
    'email,phone\na@example.org,1,extra,more\nb@example.org\n"c@example.org",3\n',
  );
  writeFileSync(file('truncated.json'), '[{"a":1},{"a":2},{"a":"cut here');
  writeFileSync(file('truncated-early.json'), '[{"a":"cut');
  writeFileSync(file('one-bad-line.jsonl'), '{"a":1}\n{"a":2\n{"a":3}\n');
  writeFileSync(file('all-bad.jsonl'), 'not json\nneither\n');
  writeFileSync(file('empty.jsonl'), '');
  mkdirSync(file('a-directory'));
  await writeBig(file('value.jsonl'), '{"id":1,"blob":"', 100, '"}\n{"id":2}\n');
  await writeBig(file('value-array.json'), '[{"id":1,"blob":"', 100, '"},{"id":2}]');
  await writeBig(file('value.csv'), 'id,blob\n1,', 100, '\n2,small\n');
  await writeBig(file('value-object.json'), '{"id":1,"blob":"', 100, '"}');
  // Under the caps (32 MiB a record, 32 MiB a JSON object): read and handed to the classifier
  // whole, the worst cases for memory.
  await writeBig(file('value-30.jsonl'), '{"id":1,"blob":"', 30, '"}\n');
  await writeBig(file('object-30.json'), '{"id":1,"blob":"', 30, '"}');
}, 60_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function byName(report: ScanReport): Map<string, TargetReport> {
  expectValidReport(report);
  return new Map(report.targets.map((t) => [t.target.slice(dir.length + 1), t]));
}

describe('leakwatch classify on hostile files', () => {
  it('gives each bad file a clear error or a bounded result, and classifies the rest', async () => {
    const names = [
      'deep.jsonl',
      'deep-array.json',
      'deep-object.json',
      'invalid-utf8.jsonl',
      'invalid-utf8.csv',
      'binary.jsonl',
      'ragged.csv',
      'truncated.json',
      'truncated-early.json',
      'one-bad-line.jsonl',
      'all-bad.jsonl',
      'empty.jsonl',
      'a-directory',
      'does-not-exist.json',
    ];
    const run = await runCli(['classify', ...names.map(file), '-f', 'json', '-q']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const t = byName(JSON.parse(run.stdout) as ScanReport);
    const summary = (name: string) => {
      const target = t.get(name);
      return [target?.status, target?.size?.records, target?.detail];
    };
    expect(summary('deep.jsonl').slice(0, 2)).toEqual(['open', 2]);
    expect(summary('deep-array.json').slice(0, 2)).toEqual(['open', 2]);
    expect(summary('deep-object.json').slice(0, 2)).toEqual(['open', 1]);
    expect(summary('invalid-utf8.jsonl')).toEqual(['open', 1, 'JSON Lines: 1 record in 1 collection']);
    expect(summary('invalid-utf8.csv')).toEqual(['open', 1, 'CSV: 1 record in 1 collection']);
    expect(summary('binary.jsonl')).toEqual(['error', undefined, 'binary file, not records']);
    expect(summary('ragged.csv')).toEqual([
      'open',
      3,
      'CSV: 3 records in 1 collection; 2 rows with another cell count than the header, kept (first: row 2)',
    ]);
    expect(summary('truncated.json')).toEqual([
      'open',
      2,
      'JSON: 2 records in 1 collection; the file ends inside element 3 (truncated?)',
    ]);
    expect(summary('truncated-early.json')).toEqual([
      'error',
      undefined,
      'the file ends inside element 1 (truncated?)',
    ]);
    expect(summary('one-bad-line.jsonl')).toEqual([
      'open',
      2,
      'JSON Lines: 2 records in 1 collection; skipped 1 malformed line (line 2)',
    ]);
    expect(summary('all-bad.jsonl')).toEqual([
      'error',
      undefined,
      'skipped 2 malformed lines (first: line 1)',
    ]);
    expect(summary('empty.jsonl')).toEqual(['open', 0, 'empty file: no records']);
    expect(t.get('empty.jsonl')?.indicators).toEqual(['empty']);
    expect(summary('a-directory')).toEqual(['error', undefined, 'is a directory, not a file']);
    expect(summary('does-not-exist.json')).toEqual(['error', undefined, 'no such file']);
  });

  it('skips 100 MB values and refuses a 100 MB object with bounded memory', async () => {
    const baseline = await runWithPeak(['classify', file('one-bad-line.jsonl'), '-f', 'json', '-q']);
    const run = await runWithPeak([
      'classify',
      ...[
        'value.jsonl',
        'value-array.json',
        'value.csv',
        'value-object.json',
        'value-30.jsonl',
        'object-30.json',
      ].map(file),
      '-f',
      'json',
      '-q',
    ]);
    expect(run.code).toBe(0);
    const t = byName(JSON.parse(run.stdout) as ScanReport);
    expect([...t.values()].map((target) => [target.status, target.size?.records, target.detail])).toEqual([
      ['open', 1, 'JSON Lines: 1 record in 1 collection; skipped 1 oversized line (line 1)'],
      ['open', 1, 'JSON: 1 record in 1 collection; skipped 1 oversized element (element 1)'],
      ['open', 1, 'CSV: 1 record in 1 collection; skipped 1 oversized row (row 2)'],
      [
        'error',
        undefined,
        "JSON object larger than 32 MiB; convert it to JSON Lines (e.g. jq -c '.hits.hits[]') or an array",
      ],
      ['open', 1, expect.stringMatching(/^JSON Lines: 1 record in 1 collection/)],
      ['open', 1, expect.stringMatching(/^JSON: 1 record in 1 collection/)],
    ]);
    expect(baseline.peakMb).toBeGreaterThan(0);
    console.info(`peak RSS ${run.peakMb.toFixed(0)} MB, baseline ${baseline.peakMb.toFixed(0)} MB`);
    expect(run.peakMb - baseline.peakMb).toBeLessThan(300);
  }, 120_000);
});
