import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeContext, ProbeTarget, RecordSink } from '../../src/connectors/connector.js';
import { elasticsearchConnector } from '../../src/connectors/elasticsearch.js';
import { runScan } from '../../src/scan/run-scan.js';
import { CollectingSink, probeContext } from '../collecting-sink.js';
import { startFakeElasticsearch, type FakeElasticsearch } from '../servers/fake-elasticsearch.js';

/** The `n` of every record of `collection` (the fake documents' sequence numbers). */
function numbers(sink: CollectingSink, collection: string): number[] {
  return (sink.records.get(collection) ?? []).map((r) => (r as { n: number }).n);
}

function context(sampler: RecordSink, maxBytes = 8 << 20): ProbeContext {
  return probeContext(sampler, { maxBytes });
}

const users = Array.from({ length: 2_500 }, (_, n) => ({
  n,
  email: `user${n}@example.test`,
  profile: { name: `User ${n}`, ssid: `Home-${n}` },
}));
const events = Array.from({ length: 12_000 }, (_, n) => ({
  n,
  mac: `02:00:00:00:${String(n % 100).padStart(2, '0')}:01`,
}));
// Three large documents first: the first page, sized from the average, is over a 64 kB cap.
const notes = Array.from({ length: 50 }, (_, n) => ({ n, text: n < 3 ? 'x'.repeat(25_000) : 'short' }));
const range = (count: number): number[] => Array.from({ length: count }, (_, n) => n);

describe('elasticsearch sampling against a protocol-faithful fake Elasticsearch/OpenSearch (no real ES installable here)', () => {
  let es: FakeElasticsearch;
  let os: FakeElasticsearch;

  beforeAll(async () => {
    [es, os] = await Promise.all([
      startFakeElasticsearch({
        indices: { users, events, empty: [], archive: users.slice(0, 3), '.kibana_1': [{ type: 'config' }] },
        closed: ['archive'],
      }),
      startFakeElasticsearch({ indices: { users, notes }, distribution: 'opensearch' }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([es.stop(), os.stop()]);
  });

  const target = (server: FakeElasticsearch): ProbeTarget => ({
    protocol: 'elasticsearch',
    host: '127.0.0.1',
    port: server.port,
  });

  it('the stand-in refuses from + size past 10,000 and scrolls past it, as Elastic documents', async () => {
    const base = `http://127.0.0.1:${es.port}`;
    const refused = await fetch(`${base}/events/_search?from=9990&size=20`);
    expect(refused.status).toBe(400);
    const error = (await refused.json()) as { error: { type: string; reason: string } };
    expect(error.error.type).toBe('illegal_argument_exception');
    expect(error.error.reason).toContain('Result window is too large');
    const opened = (await (await fetch(`${base}/events/_search?scroll=1m&size=10000&sort=_doc`)).json()) as {
      _scroll_id: string;
      hits: { total: unknown; hits: unknown[] };
    };
    expect(opened.hits.total).toEqual({ value: 12_000, relation: 'eq' });
    expect(opened.hits.hits).toHaveLength(10_000);
    const id = encodeURIComponent(opened._scroll_id);
    const rest = (await (await fetch(`${base}/_search/scroll?scroll=1m&scroll_id=${id}`)).json()) as {
      hits: { hits: { _id: string }[] };
    };
    expect(rest.hits.hits.map((h) => h._id)).toEqual(range(2_000).map((n) => String(10_001 + n)));
    const missing = await fetch(`${base}/_search/scroll?scroll_id=bm8tc3VjaC1pZA%3D%3D`);
    expect(missing.status).toBe(404);
    expect(JSON.stringify(await missing.json())).toContain('search_context_missing_exception');
  });

  it('reads `limit` documents per index with one plain GET _search each', async () => {
    const sink = new CollectingSink(10);
    const before = es.requests.length;
    const result = await elasticsearchConnector.probe(target(es), context(sink));
    expect(result.status).toBe('open');
    expect([...sink.records.keys()].sort()).toEqual(['events', 'users']);
    expect(numbers(sink, 'users')).toEqual(range(10));
    expect(numbers(sink, 'events')).toEqual(range(10));
    expect(sink.records.get('users')?.[0]).toEqual(users[0]);
    const sent = es.requests.slice(before);
    expect(sent.every((r) => r.method === 'GET')).toBe(true);
    expect(sent.map((r) => r.url)).toEqual([
      '/',
      '/_cat/indices?format=json&bytes=b',
      // _count for the closed index (no docs.count in _cat); closed and empty indices are not searched.
      '/archive/_count',
      '/events/_search?size=10&sort=_doc',
      '/users/_search?size=10&sort=_doc',
    ]);
    expect(result.detail).toMatch(/; sampled 20 documents from 2 indices$/);
    expect(result.detail).not.toContain('example.test');
  });

  it('reads every document with limit Infinity: 2,500 and 12,000 (past the 10,000 window) by scroll', async () => {
    const sink = new CollectingSink(Infinity);
    const before = es.requests.length;
    const result = await elasticsearchConnector.probe(target(es), context(sink));
    expect(result.status).toBe('open');
    expect(numbers(sink, 'users')).toEqual(range(2_500));
    expect(numbers(sink, 'events')).toEqual(range(12_000));
    const sent = es.requests.slice(before);
    expect(sent.every((r) => r.method === 'GET')).toBe(true);
    expect(sent.filter((r) => r.url.startsWith('/_search/scroll?')).length).toBeGreaterThanOrEqual(14);
    expect(sent.some((r) => r.url.includes('from='))).toBe(false);
    expect(result.detail).toContain('sampled 14500 documents from 2 indices');
  });

  it('sizes pages to the byte cap and still reads everything', async () => {
    const sink = new CollectingSink(Infinity);
    const result = await elasticsearchConnector.probe(target(os), context(sink, 64 * 1024));
    expect(result.status).toBe('open');
    expect(result.server?.product).toBe('opensearch');
    expect(numbers(sink, 'users')).toEqual(range(2_500));
    // Asked again with smaller pages after the first was refused by the cap.
    expect(numbers(sink, 'notes')).toEqual(range(50));
    const firstPages = os.requests.filter((r) => r.url.startsWith('/notes/_search?')).map((r) => r.url);
    expect(firstPages).toEqual([
      '/notes/_search?scroll=1m&size=9&sort=_doc',
      '/notes/_search?scroll=1m&size=1&sort=_doc',
    ]);
    const pages = os.requests.filter((r) => r.url.includes('_search'));
    // 64 kB / 4 per page at ~300 bytes a hit: dozens of small pages, none over the cap.
    expect(pages.length).toBeGreaterThan(20);
  });

  it("is not cut by the probe deadline: sampling runs on the sampler's own signal", async () => {
    const probeDeadline = new AbortController();
    const sink = new (class extends CollectingSink {
      override add(collection: string, record: unknown): void {
        probeDeadline.abort();
        super.add(collection, record);
      }
    })(Infinity);
    const result = await elasticsearchConnector.probe(target(os), {
      ...context(sink),
      signal: probeDeadline.signal,
    });
    expect(probeDeadline.signal.aborted).toBe(true);
    expect(result.status).toBe('open');
    expect(numbers(sink, 'users')).toHaveLength(2_500);
    expect(numbers(sink, 'notes')).toHaveLength(50);
  });

  it('feeds a scan with --sample: fields is an array and no document value is in the report', async () => {
    const report = await runScan({
      targets: [`elasticsearch://127.0.0.1:${es.port}`],
      timeoutMs: 5_000,
      sample: { limit: 100, timeoutMs: 10_000 },
    });
    const [entry] = report.targets;
    expect(entry?.status).toBe('open');
    expect(Array.isArray(entry?.fields)).toBe(true);
    expect(entry?.detail).toContain('sampled 200 documents from 2 indices');
    const text = JSON.stringify(report);
    expect(text).not.toContain('example.test');
    expect(text).not.toContain('Home-1');
    expect(text).not.toContain('02:00:00:00');
  });
});
