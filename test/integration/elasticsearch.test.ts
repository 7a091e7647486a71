import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TargetReport } from '../../src/core/scan-report.js';
import { runScan } from '../../src/scan/run-scan.js';
import { startFakeElasticsearch, type FakeElasticsearch } from '../servers/fake-elasticsearch.js';

const timeoutMs = 5_000;

async function scanOne(target: string): Promise<TargetReport> {
  const report = await runScan({ targets: [target], timeoutMs });
  expect(report.targets).toHaveLength(1);
  return report.targets[0] as TargetReport;
}

function listenPort(server: HttpServer | TcpServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address !== null && typeof address === 'object') resolve(address.port);
      else reject(new Error('no port'));
    });
  });
}

const customers = [
  { email: 'ann@example.com', name: 'Ann', height_cm: 170 },
  { email: 'bob@example.com', name: 'Bob', height_cm: 182 },
  { email: 'cy@example.com', name: 'Cy', height_cm: 165 },
];
const devices = Array.from({ length: 5 }, (_, i) => ({
  model: 'cam-v2',
  firmware: `4.${i}.1`,
  wifi: { ssid: `Home-${i}` },
}));
const kibana = [{ type: 'config' }, { type: 'index-pattern' }];

describe('elasticsearch connector against a protocol-faithful fake Elasticsearch (no real ES installable here)', () => {
  let es: FakeElasticsearch;
  let os: FakeElasticsearch;
  let secured: FakeElasticsearch;
  let securedOs: FakeElasticsearch;
  let empty: FakeElasticsearch;
  let withClosed: FakeElasticsearch;
  let webApp: HttpServer;
  let notHttp: TcpServer;
  let webAppPort: number;
  let notHttpPort: number;
  const password = 'Es-s3cret:pw';
  // Filled as servers come up, so afterAll stops whatever started even if beforeAll failed midway.
  const stops: (() => Promise<unknown>)[] = [];
  const start = async (options: Parameters<typeof startFakeElasticsearch>[0]): Promise<FakeElasticsearch> => {
    const server = await startFakeElasticsearch(options);
    stops.push(() => server.stop());
    return server;
  };

  beforeAll(async () => {
    [es, os, secured, securedOs, empty, withClosed] = await Promise.all([
      start({ indices: { customers, devices, 'events-2019': [], '.kibana_1': kibana } }),
      start({ indices: { scale_metrics: customers }, distribution: 'opensearch' }),
      start({ indices: { customers }, auth: { user: 'elastic', password } }),
      start({
        indices: { customers },
        distribution: 'opensearch',
        auth: { user: 'admin', password },
      }),
      start({ indices: { '.kibana_1': kibana } }),
      start({ indices: { customers, 'archive-2019': devices }, closed: ['archive-2019'] }),
    ]);
    // A web application that answers GET / with JSON, and a service that does not speak HTTP.
    webApp = createHttpServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: 'ok', version: '1.0' }));
    });
    notHttp = createTcpServer((socket) => {
      // Drain what the client sends, or its FIN is never read and close() waits forever.
      socket.resume();
      socket.end('SSH-2.0-OpenSSH_9.2\r\n');
    });
    [webAppPort, notHttpPort] = await Promise.all([listenPort(webApp), listenPort(notHttp)]);
    stops.push(
      () => {
        webApp.closeAllConnections();
        return new Promise((r) => webApp.close(r));
      },
      () => new Promise((r) => notHttp.close(r)),
    );
  });

  afterAll(async () => {
    await Promise.all(stops.map((stop) => stop()));
  });

  it('reports an open cluster with every user index, its documents and bytes', async () => {
    const result = await scanOne(`elasticsearch://127.0.0.1:${es.port}`);
    expect(result.status).toBe('open');
    expect(result.server).toEqual({ product: 'elasticsearch', version: '8.13.4' });
    expect(result.collections).toEqual([
      { name: 'customers', records: 3, bytes: es.storeSize('customers') },
      { name: 'devices', records: 5, bytes: es.storeSize('devices') },
      { name: 'events-2019', records: 0, bytes: es.storeSize('events-2019') },
    ]);
    expect(result.size).toEqual({
      collections: 3,
      records: 8,
      bytes: es.storeSize('customers') + es.storeSize('devices') + es.storeSize('events-2019'),
    });
    // The .kibana_1 system index is counted, never listed.
    expect(result.collections.some((c) => c.name.startsWith('.'))).toBe(false);
    expect(result.detail).toBe(
      'GET / and _cat/indices answered without authentication; 8 documents in 3 indices (+1 system index not listed)',
    );
    expect(result.indicators).toEqual([]);
    // Read-only: nothing but GETs reached the cluster, and no _count was needed.
    expect(es.requests.every((r) => r.method === 'GET')).toBe(true);
    expect(es.requests.map((r) => r.url)).toEqual(['/', '/_cat/indices?format=json&bytes=b']);
  });

  it('limits the probe to the index a target path names', async () => {
    const result = await scanOne(`es://127.0.0.1:${es.port}/devices`);
    expect(result.status).toBe('open');
    expect(result.collections).toEqual([{ name: 'devices', records: 5, bytes: es.storeSize('devices') }]);
    expect(result.size?.records).toBe(5);
    const missing = await scanOne(`es://127.0.0.1:${es.port}/no-such-index`);
    expect(missing.status).toBe('error');
    expect(missing.detail).toContain('"no-such-index" does not exist');
  });

  it('detects the OpenSearch distribution', async () => {
    const result = await scanOne(`opensearch://127.0.0.1:${os.port}`);
    expect(result.status).toBe('open');
    expect(result.server).toEqual({ product: 'opensearch', version: '2.11.1' });
    expect(result.collections).toEqual([
      { name: 'scale_metrics', records: 3, bytes: os.storeSize('scale_metrics') },
    ]);
  });

  it('reports 401 security_exception as auth-required', async () => {
    const result = await scanOne(`elasticsearch://127.0.0.1:${secured.port}`);
    expect(result.status).toBe('auth-required');
    expect(result.detail).toBe(
      'elasticsearch requires authentication on GET / (HTTP 401 security_exception)',
    );
    expect(result.server).toEqual({ product: 'elasticsearch' });
    expect(result.collections).toEqual([]);
  });

  it('reports OpenSearch security (401, realm "OpenSearch Security") as auth-required', async () => {
    const result = await scanOne(`opensearch://127.0.0.1:${securedOs.port}`);
    expect(result.status).toBe('auth-required');
    expect(result.server).toEqual({ product: 'opensearch' });
  });

  it('uses Basic credentials named in the target and never prints the password', async () => {
    const target = `elasticsearch://elastic:${encodeURIComponent(password)}@127.0.0.1:${secured.port}`;
    const report = await runScan({ targets: [target], timeoutMs });
    const result = report.targets[0] as TargetReport;
    expect(result.status).toBe('open');
    expect(result.target).toBe(`elasticsearch://127.0.0.1:${secured.port}`);
    expect(result.detail).toContain('with the given credentials');
    expect(result.collections).toEqual([
      { name: 'customers', records: 3, bytes: secured.storeSize('customers') },
    ]);
    expect(JSON.stringify(report)).not.toContain(password);
    expect(JSON.stringify(report)).not.toContain(encodeURIComponent(password));

    const wrong = await scanOne(`elasticsearch://elastic:nope@127.0.0.1:${secured.port}`);
    expect(wrong.status).toBe('auth-required');
    expect(wrong.detail).toContain('rejected the given credentials');
    expect(wrong.detail).not.toContain('elastic]');
  });

  it('marks a cluster with only system indices as empty', async () => {
    const result = await scanOne(`elasticsearch://127.0.0.1:${empty.port}`);
    expect(result.status).toBe('open');
    expect(result.collections).toEqual([]);
    expect(result.size).toEqual({ collections: 0, records: 0 });
    expect(result.indicators).toEqual(['empty']);
  });

  it('asks _count for an index without docs.count, and leaves it uncounted when that fails', async () => {
    const result = await scanOne(`elasticsearch://127.0.0.1:${withClosed.port}`);
    expect(result.status).toBe('open');
    expect(result.collections).toEqual([
      { name: 'archive-2019' },
      { name: 'customers', records: 3, bytes: withClosed.storeSize('customers') },
    ]);
    expect(result.size).toEqual({
      collections: 2,
      records: 3,
      bytes: withClosed.storeSize('customers'),
      approximate: true,
    });
    expect(withClosed.requests.map((r) => r.url)).toContain('/archive-2019/_count');
  });

  it('auto-detects elasticsearch (not plain http) on a bare host:port', async () => {
    const result = await scanOne(`127.0.0.1:${es.port}`);
    expect(result.protocol).toBe('elasticsearch');
    expect(result.status).toBe('open');
    expect(result.size?.records).toBe(8);
  });

  it('has a stand-in that pages _search with search_after and maps fields as ES does', async () => {
    const base = `http://127.0.0.1:${es.port}`;
    const page1 = (await (await fetch(`${base}/devices/_search?size=2&sort=_doc`)).json()) as {
      hits: { total: unknown; hits: { _id: string; sort: number[] }[] };
    };
    expect(page1.hits.total).toEqual({ value: 5, relation: 'eq' });
    expect(page1.hits.hits.map((h) => h._id)).toEqual(['1', '2']);
    const after = page1.hits.hits[1]?.sort;
    const page2 = (await (
      await fetch(`${base}/devices/_search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ size: 2, sort: ['_doc'], search_after: after }),
      })
    ).json()) as { error?: unknown };
    // Only GET and HEAD are answered, as the scanner never sends anything else.
    expect(page2.error).toContain('Incorrect HTTP method');
    const mapping = (await (await fetch(`${base}/customers/_mapping`)).json()) as Record<string, unknown>;
    expect(mapping).toEqual({
      customers: {
        mappings: {
          properties: {
            email: { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 256 } } },
            name: { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 256 } } },
            height_cm: { type: 'long' },
          },
        },
      },
    });
    const cat = (await (
      await fetch(`${base}/_cat/indices/customers?format=json&bytes=b`)
    ).json()) as unknown[];
    expect(cat).toEqual([
      expect.objectContaining({
        index: 'customers',
        'docs.count': '3',
        'store.size': String(es.storeSize('customers')),
      }),
    ]);
  });

  it('reports a web app and a non-HTTP service as other-protocol', async () => {
    const web = await scanOne(`elasticsearch://127.0.0.1:${webAppPort}`);
    expect(web.status).toBe('other-protocol');
    expect(web.detail).toContain('not an Elasticsearch banner');
    const ssh = await scanOne(`elasticsearch://127.0.0.1:${notHttpPort}`);
    expect(ssh.status).toBe('other-protocol');
  });
});
