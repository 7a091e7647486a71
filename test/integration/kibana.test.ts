import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kibanaConnector } from '../../src/connectors/kibana.js';
import type { TargetReport } from '../../src/core/scan-report.js';
import { runScan } from '../../src/scan/run-scan.js';
import { CollectingSink, probeContext } from '../collecting-sink.js';
import { startFakeKibana, type FakeKibana } from '../servers/fake-kibana.js';
import { startPlainWebApp, type PlainWebApp } from '../servers/plain-web-app.js';

const timeoutMs = 5_000;

async function scanOne(target: string): Promise<TargetReport> {
  const report = await runScan({ targets: [target], timeoutMs });
  expect(report.targets).toHaveLength(1);
  return report.targets[0] as TargetReport;
}

const savedObjects = {
  'index-pattern': ['logs-*', 'customers', 'metrics-*'],
  dashboard: ['Sales', 'Ops'],
  visualization: ['Revenue'],
  config: ['8.13.4'],
};
const password = 'Kbn-s3cret:pw';

describe('kibana connector against a protocol-faithful fake Kibana (no Kibana installable here)', () => {
  let open: FakeKibana;
  let secured: FakeKibana;
  let statusOnly: FakeKibana;
  let webApp: PlainWebApp;
  let webAppPort = 0;
  const stops: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    [open, secured, statusOnly] = await Promise.all([
      startFakeKibana({ savedObjects }),
      startFakeKibana({ savedObjects, auth: { user: 'elastic', password } }),
      startFakeKibana({ savedObjects, auth: { user: 'elastic', password }, statusAllowAnonymous: true }),
    ]);
    stops.push(
      () => open.stop(),
      () => secured.stop(),
      () => statusOnly.stop(),
    );
    webApp = await startPlainWebApp('application/json', JSON.stringify({ status: 'ok', version: '1.0' }));
    webAppPort = webApp.port;
    stops.push(() => webApp.stop());
  });

  afterAll(async () => {
    await Promise.all(stops.map((stop) => stop()));
  });

  it('reports an open Kibana with its index patterns and saved-object count', async () => {
    const result = await scanOne(`kibana://127.0.0.1:${open.port}`);
    expect(result.status).toBe('open');
    expect(result.server).toEqual({ product: 'kibana', version: '8.13.4' });
    expect(result.collections).toEqual([{ name: 'customers' }, { name: 'logs-*' }, { name: 'metrics-*' }]);
    // index patterns + dashboards + visualizations; config is not a counted type.
    expect(result.size).toEqual({ collections: 3, records: 6 });
    expect(result.detail).toBe(
      'status API (available) and saved objects API answered without authentication; 3 index patterns, ' +
        '6 saved objects; console proxy refused (HTTP 404)',
    );
    // The one POST is the console proxy, forwarding a GET; everything else is GET.
    expect(open.requests.filter((r) => r.method !== 'GET').map((r) => r.url)).toEqual([
      '/api/console/proxy?path=_cat%2Findices%3Fformat%3Djson%26bytes%3Db&method=GET',
    ]);
  });

  it('reads the Elasticsearch behind Kibana through the console proxy (a forwarded GET)', async () => {
    const proxied = await startFakeKibana({
      savedObjects,
      esIndices: { users: 120, events: 2400, '.kibana_1': 5 },
    });
    stops.push(() => proxied.stop());
    const result = await scanOne(`kibana://127.0.0.1:${proxied.port}`);
    expect(result.status).toBe('open');
    expect(result.collections).toEqual([
      { name: 'users', records: 120, bytes: 12_000 },
      { name: 'events', records: 2400, bytes: 240_000 },
    ]);
    expect(result.size).toEqual({ collections: 2, records: 2520, bytes: 252_000 });
    expect(result.detail).toContain(
      'the Elasticsearch behind Kibana is readable through it (2 indices, 2520 documents)',
    );
    const posts = proxied.requests.filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(1);
    expect(posts[0]?.url).toContain('method=GET');
  });

  it('reports security as auth-required, also when only the status API is public', async () => {
    const result = await scanOne(`kibana://127.0.0.1:${secured.port}`);
    expect(result.status).toBe('auth-required');
    expect(result.server).toEqual({ product: 'kibana' });
    expect(result.detail).toBe('kibana requires authentication on GET /api/status (HTTP 401)');
    const partial = await scanOne(`kibana://127.0.0.1:${statusOnly.port}`);
    expect(partial.status).toBe('auth-required');
    expect(partial.detail).toBe(
      'kibana requires authentication on the saved objects API (HTTP 401); /api/status is public',
    );
  });

  it('uses named credentials without reporting them', async () => {
    const report = await runScan({
      targets: [`kibana://elastic:${password}@127.0.0.1:${secured.port}`],
      timeoutMs,
    });
    expect(report.targets[0]?.status).toBe('open');
    expect(report.targets[0]?.size).toEqual({ collections: 3, records: 6 });
    const wrong = await runScan({
      targets: [`kibana://elastic:x${password}@127.0.0.1:${secured.port}`],
      timeoutMs,
    });
    expect(wrong.targets[0]?.status).toBe('auth-required');
    expect(JSON.stringify(report)).not.toContain(password);
    expect(JSON.stringify(wrong)).not.toContain(password);
  });

  it('hands no records to the sampler (saved objects are configuration)', async () => {
    for (const limit of [5, Infinity]) {
      const sink = new CollectingSink(limit);
      const result = await kibanaConnector.probe(
        { protocol: 'kibana', host: '127.0.0.1', port: open.port },
        probeContext(sink),
      );
      expect(result.status).toBe('open');
      expect(sink.records.size).toBe(0);
    }
  });

  it('auto-detects Kibana on a bare host:port and leaves other web apps alone', async () => {
    const result = await scanOne(`127.0.0.1:${open.port}`);
    expect(result.protocol).toBe('kibana');
    expect(result.status).toBe('open');
    const locked = await scanOne(`127.0.0.1:${secured.port}`);
    expect(locked.protocol).toBe('kibana');
    expect(locked.status).toBe('auth-required');
    const other = await kibanaConnector.probe(
      { protocol: 'kibana', host: '127.0.0.1', port: webAppPort },
      probeContext(),
    );
    expect(other.status).toBe('other-protocol');
    expect(other.server).toBeUndefined();
  });
});
