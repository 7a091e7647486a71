/**
 * A PROTOCOL-FAITHFUL STAND-IN for Elasticsearch/OpenSearch, not the real thing: neither can be
 * installed on this machine (DESIGN.md "Dependencies"), so the connector is tested against this
 * small node:http server that answers the few REST calls Leakwatch makes exactly as Elastic
 * documents them, with the same status codes, headers, JSON shapes and string-typed _cat values.
 *
 * References (Elasticsearch Guide, current and 8.x):
 * - GET /          https://www.elastic.co/guide/en/elasticsearch/reference/current/rest-api-root.html
 * - _cat/indices   https://www.elastic.co/guide/en/elasticsearch/reference/current/cat-indices.html
 * - _count         https://www.elastic.co/guide/en/elasticsearch/reference/current/search-count.html
 * - _search        https://www.elastic.co/guide/en/elasticsearch/reference/current/search-search.html
 *                  (paging: .../paginate-search-results.html, search_after; `from + size` past
 *                  index.max_result_window is refused, .../index-modules.html#index-max-result-window)
 * - scroll         .../scroll-api.html and .../paginate-search-results.html#scroll-search-results:
 *                  `?scroll=<keep-alive>` opens a search context and answers `_scroll_id`; the
 *                  scroll API continues it by `scroll_id` (query parameter, deprecated in 7.0 but
 *                  still read, or request body) until a page comes back empty; an expired or unknown
 *                  id is a 404 search_context_missing_exception; `from` is refused in a scroll
 *                  context and a batch `size` past max_result_window is refused too.
 * - _mapping       https://www.elastic.co/guide/en/elasticsearch/reference/current/indices-get-mapping.html
 *                  (types: .../dynamic-field-mapping.html)
 * - errors         .../common-options.html (error body: error.root_cause[], type, reason, status)
 * - 401 bodies and the WWW-Authenticate challenge as ES security returns them, e.g.
 *   https://github.com/elastic/elasticsearch/issues/21399, elastic/go-elasticsearch#279
 * - X-elastic-product: sent by ES 7.14+ on answered requests and checked by the official clients,
 *   which exempt 401/403 because the security layer answers before the header is added
 *   (elastic/go-elasticsearch#310).
 * - OpenSearch root: https://opensearch.org/docs/latest/api-reference/ (version.distribution); its
 *   security plugin answers 401 with the text "Unauthorized" and `Basic realm="OpenSearch Security"`.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface FakeElasticsearchOptions {
  /** Index name → its documents (`_source`s); ids are "1", "2", … in order. */
  indices: Record<string, object[]>;
  /** Require HTTP Basic auth with these credentials (security enabled). */
  auth?: { user: string; password: string };
  distribution?: 'elasticsearch' | 'opensearch';
  version?: string;
  /** Indices that are closed: _cat shows them with null counts, _count/_search answer 400. */
  closed?: string[];
}

export interface FakeElasticsearch {
  port: number;
  /** Search contexts opened by `?scroll=` and not yet expired. */
  openScrolls(): number;
  /** Every request as received, for asserting that the scanner stayed read-only. */
  requests: { method: string; url: string }[];
  /** The `store.size` (bytes) reported for an index. */
  storeSize(index: string): number;
  stop(): Promise<void>;
}

interface IndexState {
  name: string;
  uuid: string;
  docs: object[];
  closed: boolean;
}

type Json = Record<string, unknown>;

const shards = { total: 1, successful: 1, skipped: 0, failed: 0 };
// A fresh empty Lucene index occupies a couple of hundred bytes on disk; documents add their JSON.
const emptyIndexBytes = 225;
// index.max_result_window default.
const maxResultWindow = 10_000;

function storeBytes(docs: readonly object[]): number {
  return docs.reduce((sum, doc) => sum + Buffer.byteLength(JSON.stringify(doc)), emptyIndexBytes);
}

// Elasticsearch's human byte sizes (`?bytes` absent): "225b", "4.3kb", "1.2mb".
function humanBytes(bytes: number): string {
  const units = ['b', 'kb', 'mb', 'gb', 'tb'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value}b` : `${Number(value.toFixed(1))}${units[unit] ?? 'b'}`;
}

function banner(options: FakeElasticsearchOptions, clusterUuid: string): Json {
  const hash = 'a3c1d9f2b8e7465c90d1f3e5b7a9c2e4d6f8a0b1';
  if (options.distribution === 'opensearch') {
    return {
      name: 'node-1',
      cluster_name: 'opensearch-cluster',
      cluster_uuid: clusterUuid,
      version: {
        distribution: 'opensearch',
        number: options.version ?? '2.11.1',
        build_type: 'tar',
        build_hash: hash,
        build_date: '2023-11-29T21:43:10.135035992Z',
        build_snapshot: false,
        lucene_version: '9.7.0',
        minimum_wire_compatibility_version: '7.10.0',
        minimum_index_compatibility_version: '7.0.0',
      },
      tagline: 'The OpenSearch Project: https://opensearch.org/',
    };
  }
  return {
    name: 'es-node-1',
    cluster_name: 'docker-cluster',
    cluster_uuid: clusterUuid,
    version: {
      number: options.version ?? '8.13.4',
      build_flavor: 'default',
      build_type: 'docker',
      build_hash: hash,
      build_date: '2024-05-06T22:04:45.107454559Z',
      build_snapshot: false,
      lucene_version: '9.10.0',
      minimum_wire_compatibility_version: '7.17.0',
      minimum_index_compatibility_version: '7.0.0',
    },
    tagline: 'You Know, for Search',
  };
}

// The shape of every Elasticsearch error body (root_cause[] repeats the top-level cause).
function errorBody(status: number, cause: Json): Json {
  return { error: { root_cause: [cause], ...cause }, status };
}

function indexNotFound(name: string): Json {
  return errorBody(404, {
    type: 'index_not_found_exception',
    reason: `no such index [${name}]`,
    'resource.type': 'index_or_alias',
    'resource.id': name,
    index_uuid: '_na_',
    index: name,
  });
}

function indexClosed(index: IndexState): Json {
  return errorBody(400, {
    type: 'index_closed_exception',
    reason: 'closed',
    index_uuid: index.uuid,
    index: index.name,
  });
}

// Dynamic field mapping: strings → text + keyword sub-field (or date), whole numbers → long,
// fractions → float, booleans → boolean, objects → properties, arrays → their elements' type.
function inferMapping(value: unknown): Json | undefined {
  if (Array.isArray(value)) return value.length === 0 ? undefined : inferMapping(value[0]);
  if (value === null || value === undefined) return undefined;
  switch (typeof value) {
    case 'string':
      return /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)
        ? { type: 'date' }
        : { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 256 } } };
    case 'number':
      return { type: Number.isInteger(value) ? 'long' : 'float' };
    case 'boolean':
      return { type: 'boolean' };
    case 'object': {
      const properties: Json = {};
      for (const [key, inner] of Object.entries(value)) {
        const mapping = inferMapping(inner);
        if (mapping !== undefined) properties[key] = mapping;
      }
      return { properties };
    }
    case 'bigint':
    case 'function':
    case 'symbol':
    case 'undefined':
      return undefined;
  }
}

function mergeProperties(target: Json, source: Json): void {
  for (const [key, mapping] of Object.entries(source)) {
    const existing = target[key] as Json | undefined;
    const sourceProps = (mapping as Json).properties as Json | undefined;
    const existingProps = existing?.properties as Json | undefined;
    if (existing === undefined) target[key] = mapping;
    else if (existingProps !== undefined && sourceProps !== undefined)
      mergeProperties(existingProps, sourceProps);
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req as AsyncIterable<Buffer>) {
    body += chunk.toString('utf8');
    if (body.length > 1024 * 1024) throw new Error('request body too large');
  }
  return body;
}

/** Starts the stand-in on a free 127.0.0.1 port. */
export async function startFakeElasticsearch(options: FakeElasticsearchOptions): Promise<FakeElasticsearch> {
  const clusterUuid = randomBytes(16).toString('base64url').slice(0, 22);
  const isOpenSearch = options.distribution === 'opensearch';
  const indices = new Map<string, IndexState>(
    Object.entries(options.indices).map(([name, docs]) => [
      name,
      {
        name,
        uuid: randomBytes(16).toString('base64url').slice(0, 22),
        docs,
        closed: options.closed?.includes(name) ?? false,
      },
    ]),
  );
  const requests: { method: string; url: string }[] = [];

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.statusCode = status;
    res.setHeader(
      'content-type',
      typeof body === 'string' ? 'text/plain; charset=UTF-8' : 'application/json; charset=UTF-8',
    );
    res.setHeader('content-length', Buffer.byteLength(text));
    res.end(text);
  };

  // `_cat/indices/<target>`: comma-separated names and wildcards; a missing concrete name is a 404.
  const resolve = (target: string | undefined): IndexState[] | { missing: string } => {
    if (target === undefined || target === '_all' || target === '*') return [...indices.values()];
    const found = new Map<string, IndexState>();
    for (const part of target.split(',')) {
      if (part.includes('*')) {
        const pattern = new RegExp(
          `^${part
            .split('*')
            .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
            .join('.*')}$`,
        );
        for (const index of indices.values()) if (pattern.test(index.name)) found.set(index.name, index);
      } else {
        const index = indices.get(part);
        if (index === undefined) return { missing: part };
        found.set(part, index);
      }
    }
    return [...found.values()];
  };

  const catRow = (index: IndexState): Record<string, string | null> => {
    const bytes = String(storeBytes(index.docs));
    return {
      // One node, one replica configured (the default) that cannot be allocated: yellow.
      health: 'yellow',
      status: index.closed ? 'close' : 'open',
      index: index.name,
      uuid: index.uuid,
      pri: '1',
      rep: '1',
      'docs.count': index.closed ? null : String(index.docs.length),
      'docs.deleted': index.closed ? null : '0',
      'store.size': index.closed ? null : bytes,
      'pri.store.size': index.closed ? null : bytes,
    };
  };

  interface Hit {
    doc: object;
    position: number;
    key: string | number;
  }

  // The hits of a match_all search in the requested order (`sort` in the URL or the body).
  const sortedHits = (index: IndexState, url: URL, body: Json): { hits: Hit[]; sorted: boolean } => {
    const sortParam = url.searchParams.get('sort');
    // `sort=field:order` in the query string, or `"sort": ["field" | {field: order}]` in the body.
    let sortField: string | undefined;
    let descending = false;
    if (sortParam !== null) {
      const [field, order] = sortParam.split(':');
      sortField = field;
      descending = order === 'desc';
    } else if (Array.isArray(body.sort) && body.sort.length > 0) {
      const first = body.sort[0] as unknown;
      if (typeof first === 'string') sortField = first;
      else if (first !== null && typeof first === 'object') {
        const [field, order] = Object.entries(first as Json)[0] ?? [];
        sortField = field;
        const direction = typeof order === 'object' && order !== null ? (order as Json).order : order;
        descending = direction === 'desc';
      }
    }
    const sortValue = (doc: object, position: number): string | number => {
      if (sortField === '_doc') return position;
      if (sortField === '_id') return String(position + 1);
      const value = (doc as Json)[sortField ?? ''];
      return typeof value === 'number' || typeof value === 'string' ? value : '';
    };
    let hits = index.docs.map((doc, position) => ({ doc, position, key: sortValue(doc, position) }));
    if (sortField !== undefined) {
      hits.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) * (descending ? -1 : 1));
      const after = Array.isArray(body.search_after) ? (body.search_after[0] as unknown) : undefined;
      if (after !== undefined) {
        hits = hits.filter((h) =>
          descending ? h.key < (after as string | number) : h.key > (after as string | number),
        );
      }
    }
    return { hits, sorted: sortField !== undefined };
  };

  // The search response body: `total` is exact up to track_total_hits' default of 10,000 (a scroll
  // tracks it exactly), hits carry `sort` when sorted and `_score` null then.
  const page = (index: IndexState, hits: readonly Hit[], sorted: boolean, exactTotal: boolean): Json => {
    const total = index.docs.length;
    return {
      took: 1,
      timed_out: false,
      _shards: shards,
      hits: {
        total:
          total > maxResultWindow && !exactTotal
            ? { value: maxResultWindow, relation: 'gte' }
            : { value: total, relation: 'eq' },
        max_score: sorted || hits.length === 0 ? null : 1.0,
        hits: hits.map((h) => ({
          _index: index.name,
          _id: String(h.position + 1),
          _score: sorted ? null : 1.0,
          _source: h.doc,
          ...(sorted ? { sort: [h.key] } : {}),
        })),
      },
    };
  };

  const search = (index: IndexState, url: URL, body: Json): Json => {
    const size = Number(url.searchParams.get('size') ?? body.size ?? 10);
    const from = Number(url.searchParams.get('from') ?? body.from ?? 0);
    const { hits, sorted } = sortedHits(index, url, body);
    return page(index, hits.slice(from, from + size), sorted, false);
  };

  // Open search contexts by scroll id: a snapshot of the hits (later writes do not show), the next
  // position, the batch size and when the context expires unless a scroll call renews it.
  interface ScrollContext {
    index: IndexState;
    hits: Hit[];
    sorted: boolean;
    next: number;
    size: number;
    expiresAt: number;
  }
  const scrolls = new Map<string, ScrollContext>();
  const dropExpired = (): void => {
    const now = Date.now();
    for (const [id, context] of scrolls) if (context.expiresAt <= now) scrolls.delete(id);
  };
  // Time units (.../api-conventions.html#time-units); a scroll keep-alive without one is refused.
  const keepAliveMs = (text: string): number | undefined => {
    const match = /^(\d+)(nanos|micros|ms|s|m|h|d)$/.exec(text);
    if (match === null) return undefined;
    const unit = { nanos: 1e-6, micros: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
      match[2] as 'nanos' | 'micros' | 'ms' | 's' | 'm' | 'h' | 'd'
    ];
    return Number(match[1]) * unit;
  };
  const badKeepAlive = (text: string): Json =>
    errorBody(400, {
      type: 'illegal_argument_exception',
      reason: `failed to parse setting [scroll] with value [${text}] as a time value: unit is missing or unrecognized`,
    });
  // Real ids are base64 of the shard contexts: long, and with `+`, `/` and `=` that need URL encoding.
  const newScrollId = (): string =>
    Buffer.concat([Buffer.from('FGluY2x1ZGVfY29udGV4dF91dWlk'), randomBytes(45)]).toString('base64');

  const authorized = (req: IncomingMessage): { ok: true } | { ok: false; user?: string } => {
    if (options.auth === undefined) return { ok: true };
    const header = req.headers.authorization;
    if (header?.startsWith('Basic ') !== true) return { ok: false };
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = colon < 0 ? decoded : decoded.slice(0, colon);
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    return user === options.auth.user && password === options.auth.password
      ? { ok: true }
      : { ok: false, user };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    requests.push({ method, url: rawUrl });
    const auth = authorized(req);
    if (!auth.ok) {
      if (isOpenSearch) {
        res.setHeader('WWW-Authenticate', 'Basic realm="OpenSearch Security"');
        send(res, 401, 'Unauthorized');
        return;
      }
      const path = rawUrl;
      const challenge = ['Basic realm="security" charset="UTF-8"', 'ApiKey'];
      res.setHeader('WWW-Authenticate', challenge);
      send(
        res,
        401,
        errorBody(401, {
          type: 'security_exception',
          reason:
            auth.user === undefined
              ? `missing authentication credentials for REST request [${path}]`
              : `unable to authenticate user [${auth.user}] for REST request [${path}]`,
          header: { 'WWW-Authenticate': challenge },
        }),
      );
      return;
    }
    if (!isOpenSearch) res.setHeader('X-elastic-product', 'Elasticsearch');
    if (method !== 'GET' && method !== 'HEAD') {
      send(res, 405, {
        error: `Incorrect HTTP method for uri [${rawUrl}] and method [${method}], allowed: [GET, HEAD]`,
        status: 405,
      });
      return;
    }
    const url = new URL(rawUrl, 'http://127.0.0.1');
    const segments = url.pathname
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
    const text = await readBody(req);
    let body: Json = {};
    try {
      if (text.trim() !== '') body = JSON.parse(text) as Json;
    } catch (error) {
      send(res, 400, errorBody(400, { type: 'parse_exception', reason: String(error) }));
      return;
    }

    if (segments.length === 0) {
      send(res, 200, banner(options, clusterUuid));
      return;
    }
    if (segments[0] === '_cat' && segments[1] === 'indices' && segments.length <= 3) {
      const found = resolve(segments[2]);
      if (!Array.isArray(found)) {
        send(res, 404, indexNotFound(found.missing));
        return;
      }
      const rows = found.map(catRow);
      if (url.searchParams.get('format') === 'json') {
        if (url.searchParams.get('bytes') !== 'b') {
          for (const row of rows) {
            for (const key of ['store.size', 'pri.store.size']) {
              const value = row[key];
              if (value !== null && value !== undefined) row[key] = humanBytes(Number(value));
            }
          }
        }
        send(res, 200, rows);
      } else {
        // Plain text: one whitespace-separated line per index, no header unless ?v.
        send(
          res,
          200,
          rows
            .map((r) =>
              Object.values(r)
                .map((v) => v ?? '')
                .join(' '),
            )
            .join('\n') + '\n',
        );
      }
      return;
    }
    if (segments[0] === '_search' && segments[1] === 'scroll' && segments.length <= 3) {
      const id = segments[2] ?? url.searchParams.get('scroll_id') ?? body.scroll_id;
      const keepAlive = url.searchParams.get('scroll') ?? body.scroll;
      if (typeof id !== 'string' || id === '') {
        send(
          res,
          400,
          errorBody(400, {
            type: 'action_request_validation_exception',
            reason: 'Validation Failed: 1: scrollId is missing;',
          }),
        );
        return;
      }
      const renewMs = typeof keepAlive === 'string' ? keepAliveMs(keepAlive) : undefined;
      if (typeof keepAlive === 'string' && renewMs === undefined) {
        send(res, 400, badKeepAlive(keepAlive));
        return;
      }
      dropExpired();
      const context = scrolls.get(id);
      if (context === undefined) {
        send(
          res,
          404,
          errorBody(404, {
            type: 'search_context_missing_exception',
            reason: `No search context found for id [${id}]`,
          }),
        );
        return;
      }
      if (renewMs !== undefined) context.expiresAt = Date.now() + renewMs;
      const batch = context.hits.slice(context.next, context.next + context.size);
      context.next += batch.length;
      send(res, 200, { _scroll_id: id, ...page(context.index, batch, context.sorted, true) });
      return;
    }
    const [name, endpoint] = segments;
    const index = name === undefined ? undefined : indices.get(name);
    if (
      segments.length === 2 &&
      name !== undefined &&
      ['_count', '_search', '_mapping'].includes(endpoint ?? '')
    ) {
      if (index === undefined) {
        send(res, 404, indexNotFound(name));
        return;
      }
      if (endpoint === '_mapping') {
        const properties: Json = {};
        for (const doc of index.docs) {
          const inferred = inferMapping(doc);
          if (inferred?.properties !== undefined) mergeProperties(properties, inferred.properties as Json);
        }
        send(res, 200, { [index.name]: { mappings: { properties } } });
        return;
      }
      if (index.closed) {
        send(res, 400, indexClosed(index));
        return;
      }
      if (endpoint === '_count') {
        send(res, 200, { count: index.docs.length, _shards: shards });
        return;
      }
      const size = Number(url.searchParams.get('size') ?? body.size ?? 10);
      const fromGiven = url.searchParams.get('from') ?? body.from;
      const from = Number(fromGiven ?? 0);
      const keepAlive = url.searchParams.get('scroll') ?? body.scroll;
      if (typeof keepAlive === 'string') {
        const ms = keepAliveMs(keepAlive);
        if (ms === undefined) {
          send(res, 400, badKeepAlive(keepAlive));
          return;
        }
        if (fromGiven !== undefined && fromGiven !== null && from > 0) {
          send(
            res,
            400,
            errorBody(400, {
              type: 'action_request_validation_exception',
              reason: 'Validation Failed: 1: using [from] is not allowed in a scroll context;',
            }),
          );
          return;
        }
        if (size > maxResultWindow) {
          send(
            res,
            400,
            errorBody(400, {
              type: 'illegal_argument_exception',
              reason:
                `Batch size is too large, size must be less than or equal to: [${maxResultWindow}] but was [${size}]. ` +
                'Scroll batch sizes cost as much memory as result windows so they are controlled by the ' +
                '[index.max_result_window] index level setting.',
            }),
          );
          return;
        }
        const { hits, sorted } = sortedHits(index, url, body);
        const id = newScrollId();
        scrolls.set(id, { index, hits, sorted, next: size, size, expiresAt: Date.now() + ms });
        send(res, 200, { _scroll_id: id, ...page(index, hits.slice(0, size), sorted, true) });
        return;
      }
      if (from + size > maxResultWindow) {
        send(
          res,
          400,
          errorBody(400, {
            type: 'illegal_argument_exception',
            reason:
              `Result window is too large, from + size must be less than or equal to: [${maxResultWindow}] but was [${from + size}]. ` +
              'See the scroll api for a more efficient way to request large data sets. This limit can be set by ' +
              'changing the [index.max_result_window] index level setting.',
          }),
        );
        return;
      }
      send(res, 200, search(index, url, body));
      return;
    }
    send(res, 400, {
      error: `no handler found for uri [${rawUrl}] and method [${method}]`,
      status: 400,
    });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, errorBody(500, { type: 'exception', reason: String(error) }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fake elasticsearch has no port');
  return {
    port: address.port,
    requests,
    openScrolls: () => {
      dropExpired();
      return scrolls.size;
    },
    storeSize: (index) => storeBytes(indices.get(index)?.docs ?? []),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
