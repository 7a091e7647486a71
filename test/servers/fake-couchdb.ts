/**
 * A PROTOCOL-FAITHFUL FAKE CouchDB, not the real thing: Apache CouchDB cannot be installed on this
 * machine, so the connector is tested against this small node:http server that answers the GET
 * requests Leakwatch makes as the CouchDB 3.x documentation describes them: status codes, the
 * `Server: CouchDB/<v> (Erlang OTP/25)` header, JSON shapes and error bodies.
 *
 * References (https://docs.couchdb.org/en/stable/api/):
 * - GET /              server/common.html#api-server-root (banner: couchdb, version, vendor)
 * - GET /_all_dbs      server/common.html#all-dbs; admin-only by default since 3.0
 *                      (config/couchdb.html `admin_only_all_dbs`), 401 "You are not a server admin."
 * - GET /{db}          database/common.html#get--db (doc_count, doc_del_count, sizes.file/external/active)
 * - GET /{db}/_security database/security.html (admins/members names and roles; empty members = public)
 * - GET /{db}/_all_docs database/bulk-api.html#get--db-_all_docs (total_rows, offset, rows[id, key,
 *                      value.rev, doc]; include_docs, limit, startkey as JSON, skip; ids in raw order)
 * - errors             basics.html#http-status-codes: 401 unauthorized (no/bad credentials), 403
 *                      forbidden, 404 {"error":"not_found","reason":"Database does not exist."},
 *                      405 method_not_allowed; `chttpd/require_valid_user` makes every request 401.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface FakeCouchDbOptions {
  /** Database name → its documents; each needs an `_id`. Names starting with `_` are system dbs. */
  databases: Record<string, { docs: object[]; members?: string[] }>;
  /** The server admin (Basic auth). */
  admin: { user: string; password: string };
  /** `admin_only_all_dbs` (CouchDB 3 default true). */
  adminOnlyAllDbs?: boolean;
  /** `require_valid_user`: every request needs credentials. */
  requireValidUser?: boolean;
  version?: string;
}

export interface FakeCouchDb {
  port: number;
  requests: { method: string; url: string }[];
  /** sizes.external of a database. */
  externalSize(db: string): number;
  stop(): Promise<void>;
}

type Doc = Record<string, unknown> & { _id: string };

function rev(doc: object): string {
  return `1-${createHash('md5').update(JSON.stringify(doc)).digest('hex')}`;
}

function externalBytes(docs: readonly object[]): number {
  return docs.reduce((sum, doc) => sum + Buffer.byteLength(JSON.stringify(doc)), 0);
}

export async function startFakeCouchDb(options: FakeCouchDbOptions): Promise<FakeCouchDb> {
  const version = options.version ?? '3.3.3';
  const requests: { method: string; url: string }[] = [];
  const dbs = new Map<string, { docs: Doc[]; members: string[] }>();
  for (const [name, db] of Object.entries(options.databases)) {
    const docs = (db.docs as Doc[]).slice().sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
    // System databases are admin-only in CouchDB 3 (_users, _replicator): modelled as members ["_admin"].
    dbs.set(name, { docs, members: db.members ?? (name.startsWith('_') ? ['_admin'] : []) });
  }

  const send = (
    res: ServerResponse,
    status: number,
    body: unknown,
    extra: Record<string, string> = {},
  ): void => {
    const text = `${JSON.stringify(body)}\n`;
    res.writeHead(status, {
      server: `CouchDB/${version} (Erlang OTP/25)`,
      'content-type': 'application/json',
      'cache-control': 'must-revalidate',
      'content-length': Buffer.byteLength(text),
      ...extra,
    });
    res.end(text);
  };

  const isAdmin = (req: IncomingMessage): 'admin' | 'anonymous' | 'bad' => {
    const auth = req.headers.authorization;
    if (auth === undefined) return 'anonymous';
    const match = /^Basic (.+)$/.exec(auth);
    if (!match?.[1]) return 'bad';
    const [user, ...rest] = Buffer.from(match[1], 'base64').toString('utf8').split(':');
    return user === options.admin.user && rest.join(':') === options.admin.password ? 'admin' : 'bad';
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    requests.push({ method: req.method ?? '', url: req.url ?? '' });
    const who = isAdmin(req);
    if (who === 'bad') {
      send(
        res,
        401,
        { error: 'unauthorized', reason: 'Name or password is incorrect.' },
        {
          'www-authenticate': 'Basic realm="server"',
        },
      );
      return;
    }
    if (options.requireValidUser === true && who !== 'admin') {
      send(
        res,
        401,
        { error: 'unauthorized', reason: 'Authentication required.' },
        {
          'www-authenticate': 'Basic realm="server"',
        },
      );
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, { error: 'method_not_allowed', reason: 'Only GET,HEAD allowed' });
      return;
    }
    const url = new URL(req.url ?? '/', 'http://couchdb');
    const parts = url.pathname.split('/').slice(1).map(decodeURIComponent);
    const [first = '', second, ...more] = parts;
    if (first === '') {
      send(res, 200, {
        couchdb: 'Welcome',
        version,
        git_sha: '40afb8ebc',
        uuid: 'b9f3e1c2a4d5f6e7a8b9c0d1e2f3a4b5',
        features: ['access-ready', 'partitioned', 'pluggable-storage-engines', 'reshard', 'scheduler'],
        vendor: { name: 'The Apache Software Foundation' },
      });
      return;
    }
    if (first === '_all_dbs') {
      if ((options.adminOnlyAllDbs ?? true) && who !== 'admin') {
        send(res, 401, { error: 'unauthorized', reason: 'You are not a server admin.' });
        return;
      }
      send(res, 200, [...dbs.keys()].sort());
      return;
    }
    const db = dbs.get(first);
    if (db === undefined || more.length > 0) {
      send(res, 404, { error: 'not_found', reason: 'Database does not exist.' });
      return;
    }
    if (db.members.length > 0 && who !== 'admin') {
      send(res, 401, { error: 'unauthorized', reason: 'You are not authorized to access this db.' });
      return;
    }
    if (second === undefined) {
      const external = externalBytes(db.docs);
      send(res, 200, {
        instance_start_time: '0',
        db_name: first,
        purge_seq:
          '0-g1AAAABXeJzLYWBgYMpgTmHgz8tPSTV0MDQy1zMAQsMckEQiQ1L9____szKYE1lzgQLsZqkpZmmWSZjKcRqSxwIkGRqA1H-oSYxgk1LMkk0tDJIx9WQBAN8yHbU',
        update_seq: `${db.docs.length}-g1AAAABXeJzLYWBgYMpgTmHgz8tPSTV0MDQy1zMAQsMckEQiQ1L9____szKYE1lzgQLsZqkpZmmWSZjKcRqSxwIkGRqA1H-oSYxgk1LMkk0tDJIx9WQBAN8yHbU`,
        sizes: { file: external + 41_208, external, active: Math.round(external * 0.9) + 1_024 },
        props: {},
        doc_del_count: 0,
        doc_count: db.docs.length,
        disk_format_version: 8,
        compact_running: false,
        cluster: { q: 2, n: 1, w: 1, r: 1 },
      });
      return;
    }
    if (second === '_security') {
      send(res, 200, db.members.length > 0 ? { members: { names: [], roles: db.members } } : {});
      return;
    }
    if (second === '_all_docs') {
      const includeDocs = url.searchParams.get('include_docs') === 'true';
      const limitParam = url.searchParams.get('limit');
      const limit = limitParam === null ? Infinity : Number(limitParam);
      const skip = Number(url.searchParams.get('skip') ?? '0');
      const startRaw = url.searchParams.get('startkey') ?? url.searchParams.get('start_key');
      let start: string | undefined;
      if (startRaw !== null) {
        try {
          start = JSON.parse(startRaw) as string;
        } catch {
          send(res, 400, { error: 'bad_request', reason: 'invalid UTF-8 JSON' });
          return;
        }
      }
      if (!Number.isFinite(limit) && limitParam !== null) {
        send(res, 400, { error: 'query_parse_error', reason: 'Invalid value for integer: "x"' });
        return;
      }
      const from = start === undefined ? 0 : db.docs.findIndex((d) => d._id >= start);
      const offset = from < 0 ? db.docs.length : from + skip;
      const rows = db.docs.slice(offset, offset + limit).map((doc) => ({
        id: doc._id,
        key: doc._id,
        value: { rev: rev(doc) },
        ...(includeDocs ? { doc: { ...doc, _rev: rev(doc) } } : {}),
      }));
      send(res, 200, { total_rows: db.docs.length, offset, rows });
      return;
    }
    send(res, 404, { error: 'not_found', reason: 'missing' });
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
    externalSize: (name) => externalBytes(dbs.get(name)?.docs ?? []),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
