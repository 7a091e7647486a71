import { LimitError } from '../core/errors.js';
import { formatHostPort } from '../core/parse-target.js';
import { sanitizeText } from '../core/redact.js';
import type { CollectionInfo, ServerInfo } from '../core/scan-report.js';
import type { Connector, ProbeContext, ProbeResult, ProbeTarget, RecordSink } from './connector.js';
import { httpRequest, parseJsonBody, type HttpResponse } from './http-request.js';
import { probeFailure } from './network-failure.js';

// A server with thousands of databases (one per user is a common CouchDB design) is sized on the
// first ones only, and says so (approximate).
const maxDatabases = 200;
// _all_docs rows per sampling page; smaller when a page exceeds the byte cap.
const maxPageSize = 1_000;

type JsonObject = Record<string, unknown>;
type Get = (path: string) => Promise<HttpResponse>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function header(response: HttpResponse, name: string): string {
  const value = response.headers[name];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/**
 * GET / (https://docs.couchdb.org/en/stable/api/server/common.html#api-server-root):
 * `{"couchdb":"Welcome","version":"3.3.3",...}`. Anything else is not CouchDB.
 */
function parseBanner(body: unknown): ServerInfo | undefined {
  if (!isObject(body) || body.couchdb !== 'Welcome') return undefined;
  return typeof body.version === 'string'
    ? { product: 'couchdb', version: sanitizeText(body.version, 40) }
    : { product: 'couchdb' };
}

/**
 * CouchDB errors are `{"error":"unauthorized"|"forbidden","reason":"..."}` with 401 (no or wrong
 * credentials) or 403 (authenticated but not allowed)
 * (https://docs.couchdb.org/en/stable/api/basics.html#http-status-codes). Every answer carries
 * `Server: CouchDB/<version> (Erlang OTP/..)`, which tells it from a proxy's 401.
 */
function isCouchAuthError(response: HttpResponse): boolean {
  if (response.status !== 401 && response.status !== 403) return false;
  const body = parseJsonBody(response.body);
  const shaped =
    isObject(body) &&
    (body.error === 'unauthorized' || body.error === 'forbidden') &&
    typeof body.reason === 'string';
  return shaped || /^CouchDB\//i.test(header(response, 'server'));
}

/** The database a target path names (`couchdb://host/customers`), or undefined for all. */
function namedDatabase(path: string | undefined): string | undefined {
  const first = path?.split('/')[0];
  if (first === undefined || first === '') return undefined;
  try {
    return decodeURIComponent(first);
  } catch {
    return first;
  }
}

function dbPath(name: string, rest = ''): string {
  // Database names may hold "/", which CouchDB wants as %2F.
  return `/${encodeURIComponent(name)}${rest}`;
}

interface DatabaseState {
  name: string;
  info?: { records?: number; bytes?: number };
  /** `_all_docs` answered 200: an anonymous (or the named) client reads documents. */
  readable: boolean;
  /** `_security` has no member names or roles: the database is public by configuration. */
  publicByConfig?: boolean;
  missing?: boolean;
}

/** GET /{db}, /{db}/_all_docs?limit=1 and /{db}/_security for one database. */
async function inspectDatabase(get: Get, name: string): Promise<DatabaseState> {
  const state: DatabaseState = { name, readable: false };
  // https://docs.couchdb.org/en/stable/api/database/common.html#get--db: doc_count (design docs
  // included, deleted ones not) and sizes.{file,external,active}; `external` is the uncompressed
  // size of the documents, the closest to "how much data".
  const info = await get(dbPath(name));
  if (info.status === 404) return { ...state, missing: true };
  if (info.status === 200) {
    const body = parseJsonBody(info.body);
    if (isObject(body)) {
      const records = count(body.doc_count);
      const bytes = isObject(body.sizes) ? count(body.sizes.external) : undefined;
      state.info = {
        ...(records === undefined ? {} : { records }),
        ...(bytes === undefined ? {} : { bytes }),
      };
    }
  }
  // https://docs.couchdb.org/en/stable/api/database/bulk-api.html#get--db-_all_docs
  const docs = await get(dbPath(name, '/_all_docs?limit=1'));
  state.readable = docs.status === 200;
  if (state.readable) {
    // https://docs.couchdb.org/en/stable/api/database/security.html: empty members (names and
    // roles) makes a database public; readable by a member only otherwise.
    const security = await get(dbPath(name, '/_security'));
    const body = parseJsonBody(security.body);
    if (security.status === 200 && isObject(body)) {
      const members = isObject(body.members) ? body.members : {};
      const names = Array.isArray(members.names) ? members.names.length : 0;
      const roles = Array.isArray(members.roles) ? members.roles.length : 0;
      state.publicByConfig = names === 0 && roles === 0;
    }
  }
  return state;
}

/**
 * Reads up to `limit` documents of one database: `_all_docs?include_docs=true`, paged by asking
 * one row more than kept and starting the next page at its key (the paging the CouchDB docs
 * recommend, https://docs.couchdb.org/en/stable/ddocs/views/pagination.html). Design documents
 * hold code, not records, and are skipped; `_rev` is dropped.
 */
async function sampleDatabase(
  get: Get,
  name: string,
  limit: number,
  sampler: RecordSink,
): Promise<{ documents: number; note?: string }> {
  let documents = 0;
  let startKey: string | undefined;
  let size = Math.max(1, Math.min(limit, maxPageSize));
  for (;;) {
    const want = Math.max(1, Math.min(size, limit - documents));
    const start = startKey === undefined ? '' : `&startkey=${encodeURIComponent(JSON.stringify(startKey))}`;
    let response: HttpResponse;
    try {
      response = await get(dbPath(name, `/_all_docs?include_docs=true&limit=${want + 1}${start}`));
    } catch (error) {
      if (!(error instanceof LimitError) || size === 1) throw error;
      size = Math.max(1, Math.floor(size / 8));
      continue;
    }
    const body = parseJsonBody(response.body);
    if (response.status !== 200 || !isObject(body) || !Array.isArray(body.rows)) {
      return { documents, note: `HTTP ${response.status}` };
    }
    const rows = body.rows as unknown[];
    for (const row of rows.slice(0, want)) {
      if (!isObject(row) || !isObject(row.doc) || typeof row.id !== 'string') continue;
      if (row.id.startsWith('_design/')) continue;
      const { _rev: _ignored, ...doc } = row.doc;
      sampler.add(name, doc);
      documents++;
    }
    const next = rows[want];
    if (documents >= limit || !isObject(next) || typeof next.id !== 'string') return { documents };
    startKey = next.id;
  }
}

async function sampleDatabases(get: Get, names: readonly string[], sampler: RecordSink): Promise<string> {
  let documents = 0;
  let sampled = 0;
  const failed: string[] = [];
  let stopped = '';
  for (const name of names) {
    try {
      const result = await sampleDatabase(get, name, sampler.limit, sampler);
      documents += result.documents;
      if (result.documents > 0) sampled++;
      if (result.note !== undefined) failed.push(result.note);
    } catch (error) {
      if (sampler.signal.aborted) {
        stopped = '; stopped at the sampling time limit';
        break;
      }
      failed.push(error instanceof LimitError ? 'a document over the byte cap' : 'no answer');
    }
  }
  const problems =
    failed.length > 0
      ? `; ${plural(failed.length, 'database')} not fully read (${[...new Set(failed)].join(', ')})`
      : '';
  return `; sampled ${plural(documents, 'document')} from ${plural(sampled, 'database')}${problems}${stopped}`;
}

const byName = (a: { name: string }, b: { name: string }): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

/**
 * Apache CouchDB over HTTP, GET only (DESIGN.md invariant 1): the root banner names it; `_all_dbs`
 * lists databases (admin-only by default since 3.0, when a database named in the target path is
 * checked on its own); a database is open when `_all_docs` answers without credentials. Basic
 * auth only when the target names credentials.
 */
export const couchdbConnector = {
  defaultPorts: [5984],
  async probe(target: ProbeTarget, ctx: ProbeContext): Promise<ProbeResult> {
    const withCredentials = target.username !== undefined || target.password !== undefined;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (withCredentials) {
      const pair = `${target.username ?? ''}:${target.password ?? ''}`;
      headers.authorization = `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
    }
    const base = `http://${formatHostPort(target.host, target.port)}`;
    const getWith =
      (signal: AbortSignal): Get =>
      (path) =>
        httpRequest(new URL(path, base), { signal, maxBytes: ctx.maxBytes, rejectLarger: true, headers });
    const get = getWith(ctx.signal);
    const how = withCredentials ? 'with the given credentials' : 'without authentication';
    const denied = (status: number): string =>
      withCredentials
        ? `rejected the given credentials (HTTP ${status})`
        : `HTTP ${status} without credentials`;
    try {
      const root = await get('/');
      if (isCouchAuthError(root)) {
        // require_valid_user: every request, the banner included, wants credentials.
        return {
          status: 'auth-required',
          detail: `couchdb requires authentication on GET / (${denied(root.status)})`,
          server: { product: 'couchdb' },
        };
      }
      const server = root.status === 200 ? parseBanner(parseJsonBody(root.body)) : undefined;
      if (!server) {
        return { status: 'other-protocol', detail: `HTTP ${root.status} on GET /, not a CouchDB banner` };
      }

      const named = namedDatabase(target.path);
      let names: string[];
      let listed = true;
      if (named !== undefined) {
        names = [named];
      } else {
        // https://docs.couchdb.org/en/stable/api/server/common.html#all-dbs (admin_only_all_dbs
        // defaults to true since 3.0).
        const all = await get('/_all_dbs');
        const list = parseJsonBody(all.body);
        if (isCouchAuthError(all)) {
          return {
            status: 'auth-required',
            detail:
              `couchdb ${server.version ?? ''} answers, but _all_dbs is admin-only (${denied(all.status)}); name a database in the target path to check it`.replace(
                /\s+/g,
                ' ',
              ),
            server,
          };
        }
        if (all.status !== 200 || !Array.isArray(list)) {
          return {
            status: 'error',
            detail: `GET /_all_dbs answered HTTP ${all.status} without a list`,
            server,
          };
        }
        names = list.filter((n): n is string => typeof n === 'string');
        listed = false;
      }

      const system = names.filter((n) => n.startsWith('_'));
      const user = names.filter((n) => !n.startsWith('_'));
      const inspected = user.slice(0, maxDatabases);
      const states: DatabaseState[] = [];
      for (const name of inspected) states.push(await inspectDatabase(get, name));
      if (named !== undefined && states[0]?.missing === true) {
        return {
          status: 'error',
          detail: sanitizeText(
            `database "${named}" does not exist (GET / answered: the server is reachable)`,
          ),
          server,
        };
      }
      // System databases (_users, _replicator) are counted, never listed; an anonymous read of
      // one still means the server is open (an admin party).
      let systemReadable = 0;
      if (named === undefined) {
        for (const name of system.slice(0, 10)) {
          const docs = await get(dbPath(name, '/_all_docs?limit=1'));
          if (docs.status === 200) systemReadable++;
        }
      }

      const readable = states.filter((s) => s.readable && s.missing !== true);
      const existing = states.filter((s) => s.missing !== true);
      const collections: CollectionInfo[] = existing
        .map((s) => ({
          name: sanitizeText(s.name, 255),
          ...(s.info?.records === undefined ? {} : { records: s.info.records }),
          ...(s.info?.bytes === undefined ? {} : { bytes: s.info.bytes }),
        }))
        .sort(byName);
      const records = collections.reduce((sum, c) => sum + (c.records ?? 0), 0);
      const withBytes = collections.filter((c) => c.bytes !== undefined);
      const unmeasured = collections.filter((c) => c.records === undefined).length;
      const truncated = user.length > inspected.length;
      const size = {
        collections: truncated ? user.length : collections.length,
        records,
        ...(withBytes.length > 0 ? { bytes: withBytes.reduce((sum, c) => sum + (c.bytes ?? 0), 0) } : {}),
        ...(unmeasured > 0 || truncated ? { approximate: true } : {}),
      };
      const notes = [
        system.length > 0 ? ` (+${plural(system.length, 'system database')} not listed)` : '',
        truncated ? `; only the first ${maxDatabases} inspected` : '',
      ].join('');

      if (readable.length === 0 && systemReadable === 0 && existing.length > 0) {
        return {
          status: 'auth-required',
          detail:
            `couchdb answers, but ${existing.length === 1 ? 'the database needs' : `all ${existing.length} databases need`} ` +
            `authentication to read documents${listed ? '' : ' (_all_dbs is readable)'}`,
          server,
          size,
          collections,
        };
      }
      const publicCount = readable.filter((s) => s.publicByConfig === true).length;
      const source = named === undefined ? '_all_dbs and _all_docs' : `database "${named}"`;
      const result: ProbeResult = {
        status: 'open',
        detail: sanitizeText(
          `${source} answered ${how}; ${plural(readable.length, 'readable database')} of ` +
            `${plural(existing.length, 'database')}, ${plural(records, 'document')}${notes}` +
            (publicCount > 0 ? `; ${publicCount} with no _security members` : ''),
          300,
        ),
        server,
        size,
        collections,
      };
      if (existing.length === 0 || (records === 0 && unmeasured === 0)) result.indicators = ['empty'];
      const sampler = ctx.sampler;
      const toSample = readable
        .filter((s) => s.info?.records !== 0)
        .map((s) => s.name)
        .sort();
      if (sampler !== undefined && sampler.limit > 0 && toSample.length > 0) {
        // Sampling's own deadline: a --full read outlasts the probe timeout.
        const note = await sampleDatabases(getWith(sampler.signal), toSample, sampler);
        result.detail = sanitizeText(result.detail + note, 300);
      }
      return result;
    } catch (error) {
      return probeFailure(error, ctx);
    }
  },
} satisfies Connector;
