import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ProbeContext,
  ProbeTarget,
  RecordSink,
  RecordTextFormat,
} from '../../src/connectors/connector.js';
import { completeArrayElements, completeCsvEnd, httpConnector } from '../../src/connectors/http.js';
import { runScan } from '../../src/scan/run-scan.js';
import { startPythonHttpServer, type PrivateHttpServer } from '../servers/python-http-server.js';

/** A RecordSink of our own interface that keeps the texts a connector hands over. */
class CollectingSink implements RecordSink {
  readonly texts = new Map<string, { text: string; format: RecordTextFormat }>();
  readonly records: unknown[] = [];

  constructor(
    readonly limit: number,
    readonly signal: AbortSignal,
  ) {}

  add(_collection: string, record: unknown): void {
    this.records.push(record);
  }

  addText(collection: string, text: string, format: RecordTextFormat): void {
    this.texts.set(collection, { text, format });
  }
}

function context(sampler: RecordSink): ProbeContext {
  return {
    signal: AbortSignal.timeout(10_000),
    timeoutMs: 10_000,
    maxBytes: 8 << 20,
    checkScope: () => Promise.resolve(),
    sampler,
  };
}

const email = (n: number): string => `member${n}@files.example`;
const sampleCap = 8 * 1024 * 1024;

// Seeded files, kept to compare what the sink received with what was served.
const users = JSON.stringify(Array.from({ length: 50 }, (_, i) => ({ id: i, email: email(i) })));
const events =
  Array.from({ length: 30 }, (_, i) => JSON.stringify({ at: i, user: email(i) })).join('\n') + '\n';
// RFC 4180: a quoted field may hold a line break.
const exportCsv =
  'id,email,note\n' + Array.from({ length: 40 }, (_, i) => `${i},${email(i)},"two\nlines"`).join('\n') + '\n';
const tabs = 'id\temail\n' + Array.from({ length: 10 }, (_, i) => `${i}\t${email(i)}`).join('\n') + '\n';
const logs = Array.from({ length: 20 }, (_, i) => JSON.stringify({ i, mail: email(i) })).join('\n') + '\n';
// Past the sample cap: cut mid-line / mid-element by the download.
const bigCsv =
  'id,email,pad\n' +
  Array.from({ length: 90_000 }, (_, i) => `${i},${email(i)},${'x'.repeat(80)}`).join('\n') +
  '\n';
const bigJson = `[\n${Array.from({ length: 90_000 }, (_, i) => `  {"id": ${i},\n   "email": "${email(i)}", "pad": "${'y'.repeat(80)}"}`).join(',\n')}\n]`;
const cutObject = JSON.stringify({
  data: Array.from({ length: 90_000 }, (_, i) => ({ id: i, email: email(i), pad: 'z'.repeat(80) })),
});

describe('http connector samples data files for classification (Python http.server)', () => {
  let dir: string;
  let python: PrivateHttpServer;
  let target: ProbeTarget;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lw-sample-http-'));
    writeFileSync(join(dir, 'users.json'), users);
    writeFileSync(join(dir, 'events.ndjson'), events);
    writeFileSync(join(dir, 'export.csv'), exportCsv);
    writeFileSync(join(dir, 'tabs.tsv'), tabs);
    writeFileSync(join(dir, 'logs.ndjson.gz'), gzipSync(logs));
    writeFileSync(join(dir, 'notes.txt'), `call ${email(1)}`);
    writeFileSync(join(dir, 'dump.sql'), 'CREATE TABLE t (id int);\n');
    writeFileSync(join(dir, 'big.csv'), bigCsv);
    writeFileSync(join(dir, 'big.json'), bigJson);
    writeFileSync(join(dir, 'cut.json'), cutObject);
    python = await startPythonHttpServer(dir);
    target = { protocol: 'http', host: '127.0.0.1', port: python.port };
  });

  afterAll(async () => {
    await python.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hands over each JSON/NDJSON/CSV/TSV file under its collection name, in its format', async () => {
    expect(bigCsv.length).toBeGreaterThan(sampleCap);
    expect(bigJson.length).toBeGreaterThan(sampleCap);
    const sink = new CollectingSink(1000, AbortSignal.timeout(20_000));
    const result = await httpConnector.probe(target, context(sink));
    expect(result.status).toBe('open');
    const names = (result.collections ?? []).map((c) => c.name);
    for (const name of sink.texts.keys()) expect(names).toContain(name);
    const formats = Object.fromEntries([...sink.texts].map(([name, t]) => [name, t.format]));
    expect(formats).toEqual({
      '/users.json': 'json',
      '/events.ndjson': 'ndjson',
      '/export.csv': 'csv',
      '/tabs.tsv': 'tsv',
      '/logs.ndjson.gz': 'ndjson',
      '/big.csv': 'csv',
      // A cut array keeps its whole elements, one per line.
      '/big.json': 'ndjson',
    });
    expect(sink.texts.get('/users.json')?.text).toBe(users);
    expect(sink.texts.get('/events.ndjson')?.text).toBe(events);
    expect(sink.texts.get('/export.csv')?.text).toBe(exportCsv);
    expect(sink.texts.get('/tabs.tsv')?.text).toBe(tabs);
    expect(sink.texts.get('/logs.ndjson.gz')?.text).toBe(logs);
    expect(sink.records).toEqual([]);
    expect(result.detail).toContain('sampled 7 of 8 JSON/CSV data files');
    expect(result.detail).toContain('2 cut at the byte cap (whole records kept)');
    expect(result.detail).toContain('1 skipped (truncated)');
  });

  it('keeps only whole lines and whole array elements of a file cut at the cap', async () => {
    const sink = new CollectingSink(1000, AbortSignal.timeout(20_000));
    await httpConnector.probe(target, context(sink));
    const csv = sink.texts.get('/big.csv')?.text ?? '';
    expect(csv.length).toBeLessThanOrEqual(sampleCap);
    expect(bigCsv.startsWith(csv)).toBe(true);
    expect(csv.endsWith('\n')).toBe(true);
    const lines = csv.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(1000);
    expect(lines.filter((line) => line.split(',').length !== 3)).toEqual([]);
    const ndjson = (sink.texts.get('/big.json')?.text ?? '').split('\n');
    expect(ndjson.length).toBeGreaterThan(1000);
    const wrong = ndjson.filter((line, i) => {
      const element = JSON.parse(line) as { id: unknown; email: unknown; pad: unknown };
      return element.id !== i || element.email !== email(i) || element.pad !== 'y'.repeat(80);
    });
    expect(wrong).toEqual([]);
  });

  it('reads whole files with --full', async () => {
    const sink = new CollectingSink(Infinity, AbortSignal.timeout(20_000));
    const result = await httpConnector.probe(target, context(sink));
    expect(sink.texts.get('/big.csv')).toEqual({ text: bigCsv, format: 'csv' });
    expect(sink.texts.get('/big.json')).toEqual({ text: bigJson, format: 'json' });
    expect(sink.texts.get('/cut.json')).toEqual({ text: cutObject, format: 'json' });
    expect(result.detail).toContain('sampled 8 of 8 JSON/CSV data files');
  });

  it('end to end: a sampled scan reports fields and no seeded value', async () => {
    const report = await runScan({
      targets: [`http://127.0.0.1:${python.port}/`],
      sample: { limit: 100, timeoutMs: 10_000 },
    });
    const [entry] = report.targets;
    expect(entry?.status).toBe('open');
    expect(Array.isArray(entry?.fields)).toBe(true);
    expect(entry?.detail).toContain('sampled 7 of 8');
    const text = JSON.stringify(report);
    for (const n of [0, 1, 29, 39]) expect(text).not.toContain(email(n));
  });
});

describe('http connector sampling budget and reuse (node:http server)', () => {
  let server: Server;
  let port: number;
  const requests: { method: string; url: string }[] = [];
  const fileCount = 25;

  beforeAll(async () => {
    const rows = Array.from(
      { length: fileCount },
      (_, i) => `<a href="part-${i}.json">part-${i}.json</a>${' '.repeat(30)}21-Nov-2026 10:00   20\r\n`,
    ).join('');
    const listing = `<html><head><title>Index of /</title></head><body><h1>Index of /</h1><hr><pre><a href="../">../</a>\r\n${rows}</pre></body></html>`;
    server = createServer((req, res) => {
      requests.push({ method: req.method ?? '', url: req.url ?? '' });
      if (req.url === '/') {
        res.writeHead(200, { 'content-type': 'text/html', server: 'nginx/1.22.1' }).end(listing);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(users);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    port = typeof address === 'object' && address !== null ? address.port : 0;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('fetches at most 20 data files per target, GET only', async () => {
    requests.length = 0;
    const sink = new CollectingSink(1000, AbortSignal.timeout(20_000));
    const result = await httpConnector.probe({ protocol: 'http', host: '127.0.0.1', port }, context(sink));
    expect(result.collections).toHaveLength(fileCount);
    expect(sink.texts.size).toBe(20);
    expect(requests.filter((r) => r.url !== '/')).toHaveLength(20);
    expect(requests.every((r) => r.method === 'GET')).toBe(true);
    expect(result.detail).toContain('5 skipped (over the 20-file budget)');
  });

  it('uses the body the probe already read for a small file served directly', async () => {
    requests.length = 0;
    const sink = new CollectingSink(1000, AbortSignal.timeout(20_000));
    const result = await httpConnector.probe(
      { protocol: 'http', host: '127.0.0.1', port, path: 'part-3.json' },
      context(sink),
    );
    expect(result.status).toBe('open');
    expect([...sink.texts]).toEqual([['/part-3.json', { text: users, format: 'json' }]]);
    expect(requests).toEqual([{ method: 'GET', url: '/part-3.json' }]);
  });
});

describe('recovering whole records from a cut download', () => {
  it('cuts CSV after the last line break outside quotes', () => {
    const text = 'a,b\n1,"x\ny"\n2,"open\nquo';
    expect(text.slice(0, completeCsvEnd(text))).toBe('a,b\n1,"x\ny"\n');
    expect(completeCsvEnd('no line break yet')).toBe(0);
  });

  it('keeps the complete elements of a cut JSON array, nested and escaped', () => {
    const text = '[{"a":"]},\\"{"}, [1,[2]] ,"s,t", 7, {"b":{"c":[{}]}}, {"cut": "he';
    expect(completeArrayElements(text).split('\n')).toEqual([
      '{"a":"]},\\"{"}',
      '[1,[2]]',
      '"s,t"',
      '7',
      '{"b":{"c":[{}]}}',
    ]);
    expect(completeArrayElements('[1, 2]')).toBe('1\n2');
    expect(completeArrayElements('{"not": "an array"')).toBe('');
  });
});
