import { formatHostPort } from '../core/parse-target.js';
import { sanitizeText } from '../core/redact.js';
import type { CollectionInfo, ServerInfo } from '../core/scan-report.js';
import type { Connector, ProbeContext, ProbeResult, ProbeTarget } from './connector.js';
import { httpRequest, parseJsonBody, type HttpResponse } from './http-request.js';
import { probeFailure } from './network-failure.js';

// Index patterns (data views) listed per probe; past this the list is cut and the size says so.
const maxPatterns = 1_000;
// The saved-object types that describe what the Elasticsearch behind Kibana holds and shows.
const savedObjectTypes = ['index-pattern', 'search', 'visualization', 'dashboard', 'lens', 'map'];

type JsonObject = Record<string, unknown>;
type Get = (path: string) => Promise<HttpResponse>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/**
 * Kibana adds `kbn-name` (the server name) to every answer, errors included, which tells its 401
 * from a proxy's; the body is a Hapi error, `{"statusCode":401,"error":"Unauthorized",...}`.
 */
function isKibana(response: HttpResponse): boolean {
  return response.headers['kbn-name'] !== undefined;
}

/**
 * GET /api/status (https://www.elastic.co/guide/en/kibana/current/access.html#status): `version.number`
 * and `status.overall.level` (8.x) or `.state` (7.x). With security on and anonymous status allowed
 * it answers only the redacted `{"status":{"overall":{"level":…}}}`, without a version.
 */
function parseStatus(body: unknown): { server: ServerInfo; level?: string } | undefined {
  if (!isObject(body) || !isObject(body.status) || !isObject(body.status.overall)) return undefined;
  const overall = body.status.overall;
  const rawLevel = typeof overall.level === 'string' ? overall.level : overall.state;
  const level = typeof rawLevel === 'string' ? sanitizeText(rawLevel, 30) : undefined;
  const number = isObject(body.version) ? body.version.number : undefined;
  const server: ServerInfo =
    typeof number === 'string'
      ? { product: 'kibana', version: sanitizeText(number, 40) }
      : { product: 'kibana' };
  return level === undefined ? { server } : { server, level };
}

// `_cat` answers numbers as strings ("120"), as Elasticsearch's cat API documents.
function catCount(value: unknown): number | undefined {
  return typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : count(value);
}

/**
 * Asks the console proxy to forward `GET _cat/indices?format=json&bytes=b` to Elasticsearch (an
 * empty-bodied POST, the proxy's only verb). Returns the cluster's non-system indices, or why not.
 */
async function proxiedIndices(
  base: string,
  headers: Record<string, string>,
  ctx: ProbeContext,
): Promise<{ indices?: CollectionInfo[]; why: string }> {
  const path = encodeURIComponent('_cat/indices?format=json&bytes=b');
  const response = await httpRequest(new URL(`/api/console/proxy?path=${path}&method=GET`, base), {
    method: 'POST',
    signal: ctx.signal,
    maxBytes: ctx.maxBytes,
    rejectLarger: true,
    headers: { ...headers, 'kbn-xsrf': 'true', 'content-length': '0' },
  });
  const rows = response.status === 200 ? parseJsonBody(response.body) : undefined;
  if (!Array.isArray(rows)) return { why: `refused (HTTP ${response.status})` };
  const indices: CollectionInfo[] = [];
  for (const row of rows) {
    if (!isObject(row) || typeof row.index !== 'string' || row.index.startsWith('.')) continue;
    const info: CollectionInfo = { name: sanitizeText(row.index, 255) };
    const docs = catCount(row['docs.count']);
    const bytes = catCount(row['store.size']);
    if (docs !== undefined) info.records = docs;
    if (bytes !== undefined) info.bytes = bytes;
    indices.push(info);
  }
  return { indices, why: 'answered' };
}

/**
 * Kibana over HTTP, GET only (DESIGN.md invariant 1): `/api/status` names it; the saved objects API
 * (https://www.elastic.co/guide/en/kibana/current/saved-objects-api-find.html) lists the index
 * patterns (data views) and counts searches, visualizations and dashboards. Open when both answer
 * without credentials. Then the console proxy to the Elasticsearch behind it
 * (https://www.elastic.co/guide/en/kibana/current/console-api.html): it accepts only POST with a
 * `kbn-xsrf` header, so Leakwatch sends an empty-bodied POST asking it to forward a GET of
 * `_cat/indices` (a read; the only POST Leakwatch ever sends). When it answers, the cluster's data
 * is readable through Kibana: its indices become the collections. No sampling here: point an
 * `elasticsearch://` target at the cluster to classify its documents.
 */
export const kibanaConnector = {
  defaultPorts: [5601],
  async probe(target: ProbeTarget, ctx: ProbeContext): Promise<ProbeResult> {
    const withCredentials = target.username !== undefined || target.password !== undefined;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (withCredentials) {
      const pair = `${target.username ?? ''}:${target.password ?? ''}`;
      headers.authorization = `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
    }
    const base = `http://${formatHostPort(target.host, target.port)}`;
    const get: Get = (path) =>
      httpRequest(new URL(path, base), {
        signal: ctx.signal,
        maxBytes: ctx.maxBytes,
        rejectLarger: true,
        headers,
      });
    const denied = (request: string, status: number): string =>
      withCredentials
        ? `kibana rejected the given credentials on ${request} (HTTP ${status})`
        : `kibana requires authentication on ${request} (HTTP ${status})`;
    try {
      const statusResponse = await get('/api/status');
      if ((statusResponse.status === 401 || statusResponse.status === 403) && isKibana(statusResponse)) {
        return {
          status: 'auth-required',
          detail: denied('GET /api/status', statusResponse.status),
          server: { product: 'kibana' },
        };
      }
      const parsed =
        statusResponse.status === 200 ? parseStatus(parseJsonBody(statusResponse.body)) : undefined;
      if (!parsed) {
        return {
          status: 'other-protocol',
          detail: `HTTP ${statusResponse.status} on GET /api/status, not a Kibana status`,
        };
      }
      const { server, level } = parsed;

      const patterns = await get(
        `/api/saved_objects/_find?type=index-pattern&fields=title&per_page=${maxPatterns}&sort_field=updated_at`,
      );
      if (patterns.status === 401 || patterns.status === 403) {
        return {
          status: 'auth-required',
          detail: `${denied('the saved objects API', patterns.status)}; /api/status is public`,
          server,
        };
      }
      const body = parseJsonBody(patterns.body);
      if (patterns.status !== 200 || !isObject(body) || !Array.isArray(body.saved_objects)) {
        return {
          status: 'error',
          detail: `GET /api/saved_objects/_find answered HTTP ${patterns.status} without saved objects`,
          server,
        };
      }
      const titles: string[] = [];
      for (const object of body.saved_objects) {
        if (!isObject(object) || !isObject(object.attributes)) continue;
        const title = object.attributes.title;
        if (typeof title === 'string') titles.push(title);
      }
      const patternTotal = count(body.total) ?? titles.length;
      // per_page=0 answers only the total across the listed types.
      const typeQuery = savedObjectTypes.map((t) => `type=${t}`).join('&');
      const all = await get(`/api/saved_objects/_find?${typeQuery}&per_page=0`);
      const allBody = parseJsonBody(all.body);
      const savedObjects = all.status === 200 && isObject(allBody) ? count(allBody.total) : undefined;

      const collections: CollectionInfo[] = [...new Set(titles)]
        .sort()
        .map((title) => ({ name: sanitizeText(title, 255) }));
      const cut = patternTotal > titles.length;
      const how = withCredentials ? 'with the given credentials' : 'without authentication';
      const cluster = await proxiedIndices(base, headers, ctx);
      const objectsText =
        plural(patternTotal, 'index pattern') +
        (savedObjects === undefined ? '' : `, ${plural(savedObjects, 'saved object')}`);
      if (cluster.indices !== undefined) {
        const records = cluster.indices.reduce((sum, i) => sum + (i.records ?? 0), 0);
        const bytes = cluster.indices.reduce((sum, i) => sum + (i.bytes ?? 0), 0);
        return {
          status: 'open',
          detail: sanitizeText(
            `status, saved objects and console proxy answered ${how}: the Elasticsearch behind Kibana ` +
              `is readable through it (${plural(cluster.indices.length, 'index', 'indices')}, ` +
              `${records} documents); ${objectsText}`,
            300,
          ),
          server,
          size: { collections: cluster.indices.length, records, bytes },
          collections: cluster.indices,
          ...(records === 0 ? { indicators: ['empty' as const] } : {}),
        };
      }
      const result: ProbeResult = {
        status: 'open',
        detail: sanitizeText(
          `status API (${level ?? 'level unknown'}) and saved objects API answered ${how}; ` +
            `${objectsText}; console proxy ${cluster.why}`,
          300,
        ),
        server,
        size: {
          collections: patternTotal,
          ...(savedObjects === undefined ? {} : { records: savedObjects }),
          ...(cut ? { approximate: true } : {}),
        },
        collections,
      };
      if (patternTotal === 0 && savedObjects === 0) result.indicators = ['empty'];
      return result;
    } catch (error) {
      return probeFailure(error, ctx);
    }
  },
} satisfies Connector;
