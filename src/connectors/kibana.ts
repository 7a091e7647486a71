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

/**
 * Kibana over HTTP, GET only (DESIGN.md invariant 1): `/api/status` names it; the saved objects API
 * (https://www.elastic.co/guide/en/kibana/current/saved-objects-api-find.html) lists the index
 * patterns (data views) and counts searches, visualizations and dashboards. Open when both answer
 * without credentials. The console proxy to Elasticsearch (`/api/console/proxy`) is NOT tried: it
 * takes only POST with a `kbn-xsrf` header, and Leakwatch never sends POST; point an
 * `elasticsearch://` target at the cluster behind Kibana to size its data. No sampling: saved
 * objects are configuration, not records.
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
      const result: ProbeResult = {
        status: 'open',
        detail: sanitizeText(
          `status API (${level ?? 'level unknown'}) and saved objects API answered ${how}; ` +
            plural(patternTotal, 'index pattern') +
            `${savedObjects === undefined ? '' : `, ${plural(savedObjects, 'saved object')}`}; ` +
            'console proxy not tried (POST only)',
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
