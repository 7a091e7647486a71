import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordTextFormat } from '../../src/connectors/connector.js';
import { s3Connector } from '../../src/connectors/s3.js';
import type { TargetReport } from '../../src/core/scan-report.js';
import { runScan } from '../../src/scan/run-scan.js';
import { CollectingSink, probeContext } from '../collecting-sink.js';
import { startFakeS3, type FakeS3 } from '../servers/fake-s3.js';
import { startPlainWebApp, type PlainWebApp } from '../servers/plain-web-app.js';

const timeoutMs = 5_000;

async function scanOne(target: string): Promise<TargetReport> {
  const report = await runScan({ targets: [target], timeoutMs });
  expect(report.targets).toHaveLength(1);
  return report.targets[0] as TargetReport;
}

/** Keeps every text handed over (CollectingSink keeps the last per collection). */
class TextSink extends CollectingSink {
  readonly all: { collection: string; text: string; format: RecordTextFormat }[] = [];
  override addText(collection: string, text: string, format: RecordTextFormat): void {
    this.all.push({ collection, text, format });
    super.addText(collection, text, format);
  }
}

const customersJson = JSON.stringify([{ email: 'ann@example.com', name: 'Ann' }]);
const eventsNdjson = '{"ip":"192.0.2.1"}\n{"ip":"192.0.2.2"}\n';
const plansCsv = 'name,phone\nAnn,+1 555 0100\n';
const exportsObjects: Record<string, string> = {
  'customers.json': customersJson,
  'events/2024.ndjson': eventsNdjson,
  'notes & plans.csv': plansCsv,
  'logo.png': 'PNG-not-really',
};
const logs: Record<string, string> = Object.fromEntries(
  Array.from({ length: 45 }, (_, i) => [`log-${String(i).padStart(3, '0')}.txt`, 'x'.repeat(10)]),
);
const bytesOf = (objects: Record<string, string>): number =>
  Object.values(objects).reduce((sum, body) => sum + Buffer.byteLength(body), 0);

describe('s3 connector against a protocol-faithful fake S3-compatible server (no MinIO or S3 installable here)', () => {
  let open: FakeS3;
  let listDenied: FakeS3;
  let webApp: PlainWebApp;
  let webAppPort = 0;
  const stops: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    open = await startFakeS3({
      buckets: {
        exports: { objects: exportsObjects, public: true },
        logs: { objects: logs, public: true },
        private: { objects: { 'a.json': '{}' } },
      },
      publicListBuckets: true,
      pageSize: 4,
    });
    stops.push(() => open.stop());
    listDenied = await startFakeS3({
      buckets: { exports: { objects: exportsObjects, public: true }, vault: { objects: { 'k.csv': 'a\n' } } },
    });
    stops.push(() => listDenied.stop());
    webApp = await startPlainWebApp('text/html', '<html><body>hello</body></html>');
    webAppPort = webApp.port;
    stops.push(() => webApp.stop());
  });

  afterAll(async () => {
    await Promise.all(stops.map((stop) => stop()));
  });

  it('reports open buckets with exact object counts and bytes, and a page-capped lower bound', async () => {
    const result = await scanOne(`s3://127.0.0.1:${open.port}`);
    expect(result.status).toBe('open');
    expect(result.server).toEqual({ product: 'minio' });
    // logs: 10 pages of 4 keys read out of 45 keys.
    expect(result.collections).toEqual([
      { name: 'exports', records: 4, bytes: bytesOf(exportsObjects) },
      { name: 'logs', records: 40, bytes: 400 },
      { name: 'private' },
    ]);
    expect(result.size).toEqual({
      collections: 3,
      records: 44,
      bytes: bytesOf(exportsObjects) + 400,
      approximate: true,
    });
    expect(result.detail).toBe(
      'ListBuckets and ListObjectsV2 answered without authentication; at least 44 objects in ' +
        '2 readable buckets of 3 (1 past the 10-page cap)',
    );
    expect(open.requests.every((r) => r.method === 'GET')).toBe(true);
  });

  it('reports refused ListBuckets and denied listings as auth-required; a named public bucket as open', async () => {
    const bare = await scanOne(`s3://127.0.0.1:${listDenied.port}`);
    expect(bare.status).toBe('auth-required');
    expect(bare.server).toEqual({ product: 'minio' });
    expect(bare.detail).toBe(
      'minio refuses anonymous ListBuckets (HTTP 403 AccessDenied); name a bucket in the target path to check it',
    );
    const vault = await scanOne(`s3://127.0.0.1:${listDenied.port}/vault`);
    expect(vault.status).toBe('auth-required');
    expect(vault.collections).toEqual([{ name: 'vault' }]);
    const named = await scanOne(`s3://127.0.0.1:${listDenied.port}/exports`);
    expect(named.status).toBe('open');
    expect(named.size).toEqual({ collections: 1, records: 4, bytes: bytesOf(exportsObjects) });
    const missing = await scanOne(`s3://127.0.0.1:${listDenied.port}/nope`);
    expect(missing.status).toBe('error');
    expect(missing.detail).toBe('bucket "nope" does not exist (NoSuchBucket)');
  });

  it('keeps named credentials out of the report', async () => {
    const secret = 'wJalrXUtnFEMI-K7MDENG-s3cret';
    const report = await runScan({
      targets: [`s3://AKIAEXAMPLE:${secret}@127.0.0.1:${listDenied.port}/exports`],
      timeoutMs,
    });
    expect(report.targets[0]?.status).toBe('open');
    expect(JSON.stringify(report)).not.toContain(secret);
    expect(JSON.stringify(report)).not.toContain('AKIAEXAMPLE');
  });

  it('samples small JSON, NDJSON and CSV objects with ranged GETs', async () => {
    for (const limit of [5, Infinity]) {
      const sink = new TextSink(limit);
      const result = await s3Connector.probe(
        { protocol: 's3', host: '127.0.0.1', port: listDenied.port, path: 'exports' },
        probeContext(sink),
      );
      expect(result.status).toBe('open');
      expect(result.detail).toContain('sampled 3 objects');
      expect(sink.all).toEqual([
        { collection: 'exports', text: customersJson, format: 'json' },
        { collection: 'exports', text: eventsNdjson, format: 'ndjson' },
        { collection: 'exports', text: plansCsv, format: 'csv' },
      ]);
    }
    const reads = listDenied.requests.filter((r) => r.range !== undefined);
    expect(reads.every((r) => r.range === 'bytes=0-8388607')).toBe(true);
    expect(reads.some((r) => r.url.includes('logo.png'))).toBe(false);
  });

  it('auto-detects S3 on a bare host:port and leaves other web servers alone', async () => {
    const result = await scanOne(`127.0.0.1:${open.port}`);
    expect(result.protocol).toBe('s3');
    expect(result.status).toBe('open');
    const denied = await scanOne(`127.0.0.1:${listDenied.port}`);
    expect(denied.protocol).toBe('s3');
    expect(denied.status).toBe('auth-required');
    const other = await s3Connector.probe(
      { protocol: 's3', host: '127.0.0.1', port: webAppPort },
      probeContext(),
    );
    expect(other.status).toBe('other-protocol');
    expect(other.server).toBeUndefined();
  });
});
