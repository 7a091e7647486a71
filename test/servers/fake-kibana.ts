/**
 * A PROTOCOL-FAITHFUL FAKE Kibana, not the real thing: Kibana cannot be installed on this machine,
 * so the connector is tested against this small node:http server that answers the GET requests
 * Leakwatch makes as the Kibana 8 documentation describes them.
 *
 * References (https://www.elastic.co/guide/en/kibana/current/):
 * - GET /api/status             access.html#status and the `status.allowAnonymous` setting
 *                               (settings.html): full answer name, uuid, version{number,…},
 *                               status{overall{level,summary},core,plugins}, metrics; with
 *                               security on and allowAnonymous, an anonymous caller gets only
 *                               {"status":{"overall":{"level":…}}}; otherwise 401
 * - GET /api/saved_objects/_find saved-objects-api-find.html: type (repeatable), fields, per_page
 *                               (0 allowed: total only), page; answer page, per_page, total,
 *                               saved_objects[{type,id,attributes,references,…}]
 * - POST /api/console/proxy     console-api.html (POST with kbn-xsrf only; GET is 404), forwarding a
 *                               GET of _cat/indices to the `esIndices` given
 * - errors: Hapi bodies {"statusCode":401,"error":"Unauthorized","message":"Unauthorized"}; every
 *   answer carries the `kbn-name` header (server.name).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface FakeKibanaOptions {
  /** Saved objects by type → titles. */
  savedObjects: Record<string, string[]>;
  /** Security on: Basic auth with these credentials. */
  auth?: { user: string; password: string };
  /** With security on: anonymous GET /api/status answers the redacted status. */
  statusAllowAnonymous?: boolean;
  version?: string;
  /** The Elasticsearch behind Kibana, reachable through the console proxy: index → documents. */
  esIndices?: Record<string, number>;
}

export interface FakeKibana {
  port: number;
  requests: { method: string; url: string }[];
  stop(): Promise<void>;
}

export async function startFakeKibana(options: FakeKibanaOptions): Promise<FakeKibana> {
  const version = options.version ?? '8.13.4';
  const requests: FakeKibana['requests'] = [];
  const send = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'kbn-name': 'kibana',
      'kbn-license-sig': 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2',
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'private, no-cache, no-store, must-revalidate',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  };
  const boom = (res: ServerResponse, status: number, error: string, message: string): void => {
    send(res, status, { statusCode: status, error, message });
  };
  const authenticated = (req: IncomingMessage): boolean | 'bad' => {
    const header = req.headers.authorization;
    if (header === undefined) return false;
    const match = /^Basic (.+)$/.exec(header);
    const [user, ...rest] = Buffer.from(match?.[1] ?? '', 'base64')
      .toString('utf8')
      .split(':');
    return options.auth !== undefined &&
      user === options.auth.user &&
      rest.join(':') === options.auth.password
      ? true
      : 'bad';
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    requests.push({ method: req.method ?? '', url: req.url ?? '' });
    const url = new URL(req.url ?? '/', 'http://kibana');
    const who = options.auth === undefined ? true : authenticated(req);
    if (who === 'bad') {
      boom(res, 401, 'Unauthorized', '[security_exception]: unable to authenticate user');
      return;
    }
    if (url.pathname === '/api/console/proxy') {
      // Console API: POST only, with kbn-xsrf (else 400), forwarding `method` + `path` to ES.
      if (req.method !== 'POST' || options.esIndices === undefined) {
        boom(res, 404, 'Not Found', 'Not Found');
        return;
      }
      if (req.headers['kbn-xsrf'] === undefined) {
        boom(res, 400, 'Bad Request', 'Request must contain a kbn-xsrf header.');
        return;
      }
      const path = url.searchParams.get('path') ?? '';
      if (url.searchParams.get('method') !== 'GET' || !path.startsWith('_cat/indices')) {
        boom(res, 400, 'Bad Request', 'unsupported in this fake');
        return;
      }
      // _cat/indices?format=json&bytes=b rows, numbers as strings as Elasticsearch sends them.
      send(
        res,
        200,
        Object.entries(options.esIndices).map(([index, docs]) => ({
          health: 'green',
          status: 'open',
          index,
          'docs.count': String(docs),
          'store.size': String(docs * 100),
        })),
      );
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      boom(res, 404, 'Not Found', 'Not Found');
      return;
    }
    if (url.pathname === '/api/status') {
      if (!who) {
        if (options.statusAllowAnonymous === true)
          send(res, 200, { status: { overall: { level: 'available' } } });
        else boom(res, 401, 'Unauthorized', 'Unauthorized');
        return;
      }
      send(res, 200, {
        name: 'kibana',
        uuid: '5b2de169-2785-441b-ae8c-186a1936b17d',
        version: {
          number: version,
          build_hash: 'f0d2b8b1c6d3e4a5b6c7d8e9f0a1b2c3d4e5f6a7',
          build_number: 72461,
          build_snapshot: false,
          build_flavor: 'default',
          build_date: '2024-05-06T22:04:45.107Z',
        },
        status: {
          overall: { level: 'available', summary: 'All services and plugins are available' },
          core: {
            elasticsearch: { level: 'available', summary: 'Elasticsearch is available' },
            savedObjects: { level: 'available', summary: 'SavedObjects service has completed migrations' },
          },
          plugins: {},
        },
        metrics: { last_updated: '2024-05-07T08:00:00.000Z', collection_interval_in_millis: 5000 },
      });
      return;
    }
    if (!who) {
      boom(res, 401, 'Unauthorized', 'Unauthorized');
      return;
    }
    if (url.pathname === '/api/saved_objects/_find') {
      const types = url.searchParams.getAll('type');
      if (types.length === 0) {
        boom(
          res,
          400,
          'Bad Request',
          '[request query.type]: expected at least one defined value but got [undefined]',
        );
        return;
      }
      const perPage = Number(url.searchParams.get('per_page') ?? '20');
      const page = Number(url.searchParams.get('page') ?? '1');
      const matching = types.flatMap((type) =>
        (options.savedObjects[type] ?? []).map((title, i) => ({
          type,
          id: `${type}-${i}`,
          namespaces: ['default'],
          attributes: { title },
          references: [],
          managed: false,
          updated_at: '2024-05-07T08:00:00.000Z',
          version: 'WzEsMV0=',
          score: 0,
        })),
      );
      send(res, 200, {
        page,
        per_page: perPage,
        total: matching.length,
        saved_objects: matching.slice((page - 1) * perPage, page * perPage),
      });
      return;
    }
    boom(res, 404, 'Not Found', 'Not Found');
  };

  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('no port');
  return {
    port: address.port,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
