import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../core/errors.js';
import type { InputProblem } from './input-problem.js';
import {
  fileCollection,
  parseRecordsText,
  readRecordsFile,
  type InputFormat,
  type InputRecord,
  type ReadRecordsOptions,
} from './read-records.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lw-read-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function read(name: string, content: string | Buffer, options: ReadRecordsOptions = {}) {
  const path = join(dir, name);
  writeFileSync(path, content);
  const problems: InputProblem[] = [];
  let format: InputFormat | undefined;
  const records: InputRecord[] = [];
  for await (const record of readRecordsFile(path, {
    ...options,
    onProblem: (p) => problems.push(p),
    onFormat: (f) => (format = f),
  }))
    records.push(record);
  return { records, problems, format };
}

describe('readRecordsFile', () => {
  it('reads JSON Lines, skipping blank and malformed lines, in the file name collection', async () => {
    const result = await read('accounts.jsonl', '{"a":1}\r\n\n{oops\n{"_index":"u","_source":{"b":2}}\n');
    expect(result.format).toBe('ndjson');
    expect(result.records).toEqual([
      { collection: 'accounts', record: { a: 1 } },
      { collection: 'u', record: { b: 2 } },
    ]);
    expect(result.problems).toEqual([{ kind: 'malformed', unit: 'line', at: 3 }]);
  });

  it('strips a UTF-8 byte order mark and replaces invalid UTF-8 instead of failing', async () => {
    const bytes = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from('{"name":"caf'),
      Buffer.from([0xe9, 0xff, 0xc3]),
      Buffer.from('"}\n'),
    ]);
    const result = await read('latin.jsonl', bytes);
    expect(result.records).toEqual([{ collection: 'latin', record: { name: 'caf\ufffd\ufffd\ufffd' } }]);
  });

  it('streams a JSON array and reads CSV and TSV with their headers', async () => {
    expect((await read('list.json', '[{"a":1},{"a":2}]')).records.map((r) => r.record)).toEqual([
      { a: 1 },
      { a: 2 },
    ]);
    const csv = await read('people.csv', 'email,ssid\nx@y.example,"a,b"\n');
    expect(csv).toMatchObject({
      format: 'csv',
      records: [{ collection: 'people', record: { email: 'x@y.example', ssid: 'a,b' } }],
    });
    const tsv = await read('people.tsv', 'email\tssid\nx@y.example\tb\n');
    expect(tsv.records[0]?.record).toEqual({ email: 'x@y.example', ssid: 'b' });
  });

  it('reads an Elasticsearch search response and a bulk file by their _index', async () => {
    const search = await read(
      'resp.json',
      '{"took":1,"hits":{"hits":[{"_index":"users","_source":{"e":1}}]}}',
    );
    expect(search).toMatchObject({
      format: 'es-search',
      records: [{ collection: 'users', record: { e: 1 } }],
    });
    const bulk = await read('dump.ndjson', '{"index":{"_index":"cams"}}\n{"mac":1}\n');
    expect(bulk).toMatchObject({ format: 'es-bulk', records: [{ collection: 'cams', record: { mac: 1 } }] });
  });

  it('skips a line over the record cap and refuses a JSON object over the document cap', async () => {
    const limits = { maxRecordBytes: 100, maxDocumentBytes: 100 };
    const lines = await read('big.jsonl', `{"v":"${'x'.repeat(200)}"}\n{"a":1}\n`, { limits });
    expect(lines.records).toHaveLength(1);
    expect(lines.problems).toEqual([{ kind: 'oversized', unit: 'line', at: 1 }]);
    await expect(read('big.json', `{"v":"${'x'.repeat(200)}"}`, { limits })).rejects.toThrow(/larger than/);
  });

  it('throws InputError without quoting content for an invalid JSON object, binary and missing files', async () => {
    const error = await read('bad.json', '{"secret": "hunter2-value", oops}').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).not.toContain('hunter2');
    await expect(read('truncated.json', '{"a": {"b": ')).rejects.toThrow(/ends early/);
    await expect(read('blob.bin', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 13]))).rejects.toThrow(
      'binary file, not records',
    );
    await expect(readRecordsFile(join(dir, 'absent.jsonl')).next()).rejects.toThrow('no such file');
    await expect(readRecordsFile(dir).next()).rejects.toThrow('is a directory');
  });

  it('forces a format over detection', async () => {
    const result = await read('data.txt', 'a;b\n', { format: 'tsv' });
    expect(result.format).toBe('tsv');
    expect(result.records).toEqual([]);
  });
});

describe('parseRecordsText', () => {
  it('parses documents already in memory in every text format', () => {
    expect([...parseRecordsText('[{"a":1}]', 'json', 'c')]).toEqual([{ collection: 'c', record: { a: 1 } }]);
    expect([...parseRecordsText('{"a":1}\n{"a":2}\n', 'json', 'c')]).toHaveLength(2);
    expect([...parseRecordsText('{"a":1}\nbad\n{"a":2}', 'ndjson', 'c')]).toHaveLength(2);
    expect([...parseRecordsText('\uFEFFx,y\n1,2\n', 'csv', 'c')]).toEqual([
      { collection: 'c', record: { x: '1', y: '2' } },
    ]);
    expect([...parseRecordsText('x\ty\n1\t2', 'tsv', 'c')]).toEqual([
      { collection: 'c', record: { x: '1', y: '2' } },
    ]);
  });
});

describe('fileCollection', () => {
  it('is the base name without its extension, or stdin', () => {
    expect(fileCollection('/data/users.jsonl')).toBe('users');
    expect(fileCollection('dump')).toBe('dump');
    expect(fileCollection('.hidden')).toBe('.hidden');
    expect(fileCollection('-')).toBe('stdin');
  });
});
