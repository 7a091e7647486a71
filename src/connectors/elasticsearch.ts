import { LimitError } from '../core/errors.js';
import { formatHostPort } from '../core/parse-target.js';
import { sanitizeText } from '../core/redact.js';
import type { CollectionInfo, ServerInfo } from '../core/scan-report.js';
import type { Connector, ProbeContext, ProbeResult, ProbeTarget, RecordSink } from './connector.js';
import { httpRequest, parseJsonBody, type HttpResponse } from './http-request.js';
import { probeFailure } from './network-failure.js';

// Closed or initialising indices have no docs.count in _cat; asking each one's _count is bounded.
const maxCountFallbacks = 20;

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * GET / banner (https://www.elastic.co/guide/en/elasticsearch/reference/current/rest-api-root.html):
 * `version.number` plus the cluster name or tagline; OpenSearch adds `version.distribution`.
 * Any other 200 JSON (a generic web app) is not Elasticsearch.
 */
function parseBanner(body: unknown): ServerInfo | undefined {
  if (!isObject(body) || !isObject(body.version)) return undefined;
  const { number, distribution } = body.version;
  if (typeof number !== 'string') return undefined;
  if (typeof body.tagline !== 'string' && typeof body.cluster_name !== 'string') return undefined;
  const product = distribution === 'opensearch' ? 'opensearch' : 'elasticsearch';
  return { product, version: sanitizeText(number, 40) };
}

function header(response: HttpResponse, name: string): string {
  const value = response.headers[name];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

/**
 * 401/403 from Elasticsearch security carry `security_exception` in the error body and a
 * `Basic realm="security"` challenge; OpenSearch's security plugin challenges with
 * `realm="OpenSearch Security"` and a plain "Unauthorized". A 401 from anything else (a proxy, a
 * generic web app) is left to the http connector, so a bare host:port is not mislabelled.
 */
function authVerdict(
  response: HttpResponse,
  request: string,
  withCredentials: boolean,
  known?: ServerInfo,
): ProbeResult | undefined {
  if (response.status !== 401 && response.status !== 403) return undefined;
  const body = parseJsonBody(response.body);
  const errorType = isObject(body) && isObject(body.error) ? body.error.type : undefined;
  const challenge = header(response, 'www-authenticate');
  const openSearch = /realm="?OpenSearch Security/i.test(challenge);
  const elastic =
    errorType === 'security_exception' ||
    /realm="security"/i.test(challenge) ||
    header(response, 'x-elastic-product') === 'Elasticsearch';
  if (!elastic && !openSearch && known === undefined) return undefined;
  const server = known ?? { product: openSearch ? 'opensearch' : 'elasticsearch' };
  // The reason text names the user ("unable to authenticate user [x]"): only the type is reported.
  const why = typeof errorType === 'string' ? ` ${sanitizeText(errorType, 60)}` : '';
  const detail =
    response.status === 401
      ? withCredentials
        ? `${server.product} rejected the given credentials on ${request} (HTTP 401${why})`
        : `${server.product} requires authentication on ${request} (HTTP 401${why})`
      : withCredentials
        ? `${server.product} forbids ${request} to the given user (HTTP 403${why})`
        : `${server.product} forbids ${request} without credentials (HTTP 403${why})`;
  return { status: 'auth-required', detail, server };
}

// `_cat` numbers are strings ("1234"), or null for closed indices
// (https://www.elastic.co/guide/en/elasticsearch/reference/current/cat-indices.html).
function catNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && /^\d{1,16}$/.test(value)) return Number(value);
  return undefined;
}

/** The index a target path names (`es://host/logs-2020`), or undefined for the whole cluster. */
function namedIndex(path: string | undefined): string | undefined {
  const first = path?.split('/')[0];
  if (first === undefined || first === '') return undefined;
  try {
    return decodeURIComponent(first);
  } catch {
    return first;
  }
}

// Sampling. One plain search answers a sample of up to this many documents; more goes through the
// scroll API, which has no from + size window of 10,000 (index.max_result_window).
const maxPageSize = 1_000;
// How long a scroll context lives between our calls. We never clear it (DELETE is not ours to send);
// it expires on its own this long after the last page.
const scrollKeepAlive = '1m';
// Elasticsearch refuses a request line over http.max_initial_line_length (4 kB by default).
const maxUrlChars = 4_000;
// Metadata around each `_source` in a hit (_index, _id, _score, sort), for sizing pages.
const hitOverheadBytes = 200;

type Get = (path: string) => Promise<HttpResponse>;

/** An index to sample, by its raw name (the report gets the sanitised one). */
interface SampleIndex {
  name: string;
  records?: number;
  bytes?: number;
}

interface SearchPage {
  sources: unknown[];
  scrollId?: string;
}

// Search response body (search-search.html#search-api-response-body): hits.hits[]._source, and
// `_scroll_id` when the request opened or continued a scroll.
function parsePage(response: HttpResponse): SearchPage | undefined {
  if (response.status !== 200) return undefined;
  const body = parseJsonBody(response.body);
  if (!isObject(body) || !isObject(body.hits) || !Array.isArray(body.hits.hits)) return undefined;
  const sources: unknown[] = [];
  // Without _source (disabled in the mapping) a hit has nothing to classify.
  for (const hit of body.hits.hits) if (isObject(hit) && isObject(hit._source)) sources.push(hit._source);
  return typeof body._scroll_id === 'string' ? { sources, scrollId: body._scroll_id } : { sources };
}

/**
 * Documents per page: as many as fit a quarter of the byte cap at the index's average stored size
 * (store.size / docs.count, which also counts the inverted index, so it errs large), up to 1,000.
 */
function pageSize(index: SampleIndex, wanted: number, maxBytes: number): number {
  const perDoc =
    index.bytes !== undefined && index.records !== undefined && index.records > 0
      ? index.bytes / index.records + hitOverheadBytes
      : hitOverheadBytes * 10;
  return Math.max(1, Math.min(wanted, maxPageSize, Math.floor(maxBytes / 4 / perDoc)));
}

/**
 * Reads up to `limit` documents of one index with GET only: one `_search?size=N&sort=_doc` for a
 * small sample, else a scroll (`sort=_doc` is the cheapest order, search-request-sort / scroll
 * docs). Returns how many documents went to the sampler, and why it stopped early if it did.
 */
async function sampleIndex(
  get: Get,
  index: SampleIndex,
  limit: number,
  sampler: RecordSink,
  maxBytes: number,
): Promise<{ documents: number; note?: string }> {
  const path = `/${encodeURIComponent(index.name)}/_search`;
  let size = pageSize(index, limit, maxBytes);
  let scroll: boolean;
  let first: HttpResponse | undefined;
  // A page over the cap (documents larger than the average said) is asked again, smaller.
  for (;;) {
    scroll = limit > size;
    try {
      first = await get(
        scroll
          ? `${path}?scroll=${scrollKeepAlive}&size=${size}&sort=_doc`
          : `${path}?size=${size}&sort=_doc`,
      );
      break;
    } catch (error) {
      if (!(error instanceof LimitError) || size === 1) throw error;
      size = Math.max(1, Math.floor(size / 8));
    }
  }
  let page = parsePage(first);
  if (page === undefined) return { documents: 0, note: `HTTP ${first.status}` };
  let documents = 0;
  for (;;) {
    for (const source of page.sources) {
      if (documents >= limit) break;
      sampler.add(index.name, source);
      documents++;
    }
    if (!scroll || documents >= limit || page.sources.length === 0) return { documents };
    if (page.scrollId === undefined) return { documents, note: 'no scroll id' };
    // scroll_id as a query parameter: deprecated since 7.0 in favour of a request body, but still
    // read by Elasticsearch 8 and OpenSearch, and it keeps every call a body-less GET.
    const next = `/_search/scroll?scroll=${scrollKeepAlive}&scroll_id=${encodeURIComponent(page.scrollId)}`;
    if (next.length > maxUrlChars) return { documents, note: 'scroll id too long for a GET' };
    let response: HttpResponse;
    try {
      response = await get(next);
    } catch (error) {
      if (error instanceof LimitError) return { documents, note: 'a page over the byte cap' };
      throw error;
    }
    const parsed = parsePage(response);
    if (parsed === undefined) return { documents, note: `HTTP ${response.status} on scroll` };
    page = parsed;
  }
}

/** Samples every listed index; returns the detail's note (counts only, never a value). */
async function sampleIndices(
  get: Get,
  indices: readonly SampleIndex[],
  sampler: RecordSink,
  maxBytes: number,
): Promise<string> {
  let documents = 0;
  let sampled = 0;
  const failed: string[] = [];
  let stopped = '';
  for (const index of indices) {
    try {
      const result = await sampleIndex(get, index, sampler.limit, sampler, maxBytes);
      documents += result.documents;
      if (result.documents > 0) sampled++;
      if (result.note !== undefined) failed.push(result.note);
    } catch (error) {
      if (sampler.signal.aborted) {
        stopped = '; stopped at the sampling time limit';
        break;
      }
      failed.push(error instanceof LimitError ? 'a page over the byte cap' : 'no answer');
    }
  }
  const problems =
    failed.length > 0
      ? `; ${plural(failed.length, 'index', 'indices')} not fully read (${[...new Set(failed)].join(', ')})`
      : '';
  return `; sampled ${plural(documents, 'document')} from ${plural(sampled, 'index', 'indices')}${problems}${stopped}`;
}

/**
 * Elasticsearch and OpenSearch over HTTP, GET only (DESIGN.md invariant 1): the root banner names
 * product and version; `_cat/indices` with `bytes=b` gives every index's documents and bytes.
 * Plain http only for now; Basic auth only when the target names credentials.
 */
export const elasticsearchConnector = {
  defaultPorts: [9200],
  async probe(target: ProbeTarget, ctx: ProbeContext): Promise<ProbeResult> {
    const withCredentials = target.username !== undefined || target.password !== undefined;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (withCredentials) {
      const pair = `${target.username ?? ''}:${target.password ?? ''}`;
      headers.authorization = `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
    }
    const base = `http://${formatHostPort(target.host, target.port)}`;
    const get = (path: string): Promise<HttpResponse> =>
      httpRequest(new URL(path, base), {
        signal: ctx.signal,
        maxBytes: ctx.maxBytes,
        rejectLarger: true,
        headers,
      });
    try {
      const root = await get('/');
      const rootAuth = authVerdict(root, 'GET /', withCredentials);
      if (rootAuth) return rootAuth;
      if (root.status !== 200) {
        return {
          status: 'other-protocol',
          detail: `HTTP ${root.status} on GET /, not an Elasticsearch banner`,
        };
      }
      const server = parseBanner(parseJsonBody(root.body));
      if (!server)
        return { status: 'other-protocol', detail: 'HTTP 200 on GET /, but not an Elasticsearch banner' };

      const index = namedIndex(target.path);
      const catPath =
        index === undefined
          ? '/_cat/indices?format=json&bytes=b'
          : `/_cat/indices/${encodeURIComponent(index)}?format=json&bytes=b`;
      const cat = await get(catPath);
      const catAuth = authVerdict(cat, 'GET /_cat/indices', withCredentials, server);
      if (catAuth) return catAuth;
      if (cat.status === 404 && index !== undefined) {
        return {
          status: 'error',
          detail: sanitizeText(
            `index "${index}" does not exist (GET / answered: the cluster itself is reachable)`,
          ),
          server,
        };
      }
      const rows = parseJsonBody(cat.body);
      if (cat.status !== 200 || !Array.isArray(rows)) {
        return {
          status: 'error',
          detail: `GET /_cat/indices answered HTTP ${cat.status} without an index list`,
          server,
        };
      }

      const collections: CollectionInfo[] = [];
      const toSample: SampleIndex[] = [];
      let systemIndices = 0;
      let uncounted = 0;
      let fallbacks = 0;
      for (const row of rows) {
        if (!isObject(row) || typeof row.index !== 'string') continue;
        // Dot-prefixed indices are the stack's own (.kibana, .security-7, .tasks), not user data.
        if (row.index.startsWith('.')) {
          systemIndices++;
          continue;
        }
        const entry: CollectionInfo = { name: sanitizeText(row.index, 255) };
        let records = catNumber(row['docs.count']);
        if (records === undefined && fallbacks < maxCountFallbacks) {
          fallbacks++;
          // https://www.elastic.co/guide/en/elasticsearch/reference/current/search-count.html
          const counted = await get(`/${encodeURIComponent(row.index)}/_count`);
          const body = parseJsonBody(counted.body);
          if (counted.status === 200 && isObject(body)) records = catNumber(body.count);
        }
        if (records === undefined) uncounted++;
        else entry.records = records;
        const bytes = catNumber(row['store.size']);
        if (bytes !== undefined) entry.bytes = bytes;
        collections.push(entry);
        // A closed index answers no search (index_closed_exception); an empty one has nothing.
        if (records !== 0 && row.status !== 'close') toSample.push({ ...entry, name: row.index });
      }
      collections.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

      const records = collections.reduce((sum, c) => sum + (c.records ?? 0), 0);
      const withBytes = collections.filter((c) => c.bytes !== undefined);
      const how = withCredentials ? 'with the given credentials' : 'without authentication';
      const notes = [
        systemIndices > 0 ? ` (+${plural(systemIndices, 'system index', 'system indices')} not listed)` : '',
        uncounted > 0 ? `; ${uncounted} without a document count (closed?)` : '',
      ].join('');
      const result: ProbeResult = {
        status: 'open',
        detail:
          `GET / and _cat/indices answered ${how}; ${plural(records, 'document')} in ` +
          `${plural(collections.length, 'index', 'indices')}${notes}`,
        server,
        size: {
          collections: collections.length,
          records,
          ...(withBytes.length > 0 ? { bytes: withBytes.reduce((sum, c) => sum + (c.bytes ?? 0), 0) } : {}),
          ...(uncounted > 0 ? { approximate: true } : {}),
        },
        collections,
      };
      if (records === 0 && uncounted === 0) result.indicators = ['empty'];
      const sampler = ctx.sampler;
      if (sampler !== undefined && sampler.limit > 0 && toSample.length > 0) {
        // Sampling's own deadline, not the probe's: a --full read outlasts the probe timeout.
        const sampleGet: Get = (path) =>
          httpRequest(new URL(path, base), {
            signal: sampler.signal,
            maxBytes: ctx.maxBytes,
            rejectLarger: true,
            headers,
          });
        toSample.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        result.detail += await sampleIndices(sampleGet, toSample, sampler, ctx.maxBytes);
      }
      return result;
    } catch (error) {
      return probeFailure(error, ctx);
    }
  },
} satisfies Connector;
