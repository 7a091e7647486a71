import type { IncomingHttpHeaders } from 'node:http';
import { createGunzip } from 'node:zlib';
import { ScopeError } from '../core/errors.js';
import { formatHostPort } from '../core/parse-target.js';
import { sanitizeText } from '../core/redact.js';
import type { CollectionInfo, ServerInfo, StoreSize } from '../core/scan-report.js';
import type {
  Connector,
  ProbeContext,
  ProbeResult,
  ProbeTarget,
  RecordSink,
  RecordTextFormat,
} from './connector.js';
import { httpRequest, type HttpResponse } from './http-request.js';
import { probeFailure } from './network-failure.js';

type Scheme = 'http' | 'https';

// Every request to one target (redirect hops, size look-ups, well-known paths) counts against this,
// so one probe stays a handful of requests however the server answers.
const maxRequests = 8;
const maxRedirects = 3;
// Enough to recognise a dump, an archive or a CSV header without reading the data itself.
const sniffBytes = 64 * 1024;
// Where listing signatures (titles, headings) are looked for.
const signatureBytes = 64 * 1024;
// Collections kept in the report; every data file is still counted in `size`.
const maxCollections = 1000;
// Longest tag, link text or row tail looked at while scanning a listing; longer ones are skipped, so
// a hostile page cannot make the scan quadratic.
const maxTagChars = 4096;
const maxRowChars = 1024;

// Files whose mere presence in a listing means data (or a secret) is downloadable.
const dataExtensions = [
  '.json',
  '.jsonl',
  '.ndjson',
  '.csv',
  '.tsv',
  '.sql',
  '.dump',
  '.dmp',
  '.pgdump',
  '.bak',
  '.backup',
  '.tar',
  '.tgz',
  '.zip',
  '.gz',
  '.bz2',
  '.xz',
  '.zst',
  '.7z',
  '.rar',
  '.db',
  '.sqlite',
  '.sqlite3',
  '.mdb',
  '.accdb',
  '.xls',
  '.xlsx',
  '.ods',
  '.parquet',
  '.avro',
  '.bson',
  '.rdb',
  '.aof',
  '.ibd',
  '.env',
  '.pem',
  '.key',
  '.p12',
  '.pfx',
  '.kdbx',
];
const secretNames = new Set(['id_rsa', 'id_ed25519', 'id_ecdsa', '.htpasswd', 'credentials']);

/** True when a file name looks like a data file or a secret (by extension or well-known name). */
export function isDataFileName(name: string): boolean {
  const lower = name.toLowerCase();
  if (secretNames.has(lower) || lower.startsWith('.env.')) return true;
  return dataExtensions.some((ext) => lower.endsWith(ext));
}

// Well-known leak paths tried on a bare `/` that is neither a listing nor data (HEAD first). Each
// names the content that must be seen before it counts, so a catch-all 200 page does not.
const leakPaths: readonly { path: string; kind: DataKind }[] = [
  { path: '/.env', kind: 'env' },
  { path: '/backup.sql', kind: 'sql' },
  { path: '/dump.sql', kind: 'sql' },
  { path: '/db.json', kind: 'json' },
  { path: '/export.csv', kind: 'csv' },
  { path: '/database.sql', kind: 'sql' },
  { path: '/backup.zip', kind: 'archive' },
];

type DataKind = 'json' | 'csv' | 'sql' | 'archive' | 'database' | 'env' | 'binary';

export interface ListingEntry {
  /** Sanitised for display. */
  name: string;
  /** The entry's absolute URL, as the listing linked it. */
  href: string;
  directory: boolean;
  bytes?: number;
  /** The listing showed a rounded size (`1.2K`), not bytes. */
  approximate?: boolean;
}

export type ListingFlavor = 'nginx' | 'apache' | 'lighttpd' | 'python' | 'iis' | 'index' | 'json';

export interface Listing {
  flavor: ListingFlavor;
  entries: ListingEntry[];
}

// Named entities a listing writer emits (nginx, Apache and Python escape &, <, >, " and ').
const namedEntities: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
};

/** Decodes the HTML character references a directory listing uses (HTML §13.5). */
export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#[xX][0-9a-fA-F]{1,6}|#\d{1,7}|[a-zA-Z]{2,8});/g, (whole, ref: string) => {
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return namedEntities[ref.toLowerCase()] ?? whole;
  });
}

const sizePattern = /^(\d{1,15}(?:\.\d{1,3})?)([KMGTP])?(?:i?B)?$/i;
const unitPower: Readonly<Record<string, number>> = { K: 1, M: 2, G: 3, T: 4, P: 5 };

/**
 * Parses a listing's size column: bytes (`123456`, nginx `autoindex_exact_size on`, IIS, small
 * files in Apache) or a rounded binary size (`1.2K`, `121K`, `3M`: Apache's apr_strfsize, nginx with
 * `autoindex_exact_size off`, lighttpd), which is marked approximate.
 */
export function parseSize(token: string): { bytes: number; approximate: boolean } | undefined {
  const match = sizePattern.exec(token);
  if (match?.[1] === undefined) return undefined;
  const value = Number(match[1]);
  const unit = match[2]?.toUpperCase();
  if (unit === undefined) return Number.isInteger(value) ? { bytes: value, approximate: false } : undefined;
  return { bytes: Math.round(value * 1024 ** (unitPower[unit] ?? 0)), approximate: true };
}

function firstSize(text: string, last: boolean): ReturnType<typeof parseSize> {
  const tokens = decodeEntities(text.replace(/<[^<>]*>/g, ' '))
    .split(/\s+/)
    .filter((t) => t !== '');
  if (last) tokens.reverse();
  for (const token of tokens) {
    const size = parseSize(token);
    if (size !== undefined) return size;
  }
  return undefined;
}

/** Recognises a directory listing page by its signature (title, heading or IIS's parent link). */
export function listingFlavor(head: string): ListingFlavor | undefined {
  const lower = head.toLowerCase();
  if (lower.includes('directory listing for ')) return 'python';
  if (lower.includes('[to parent directory]')) return 'iis';
  // IIS's root listing has no parent link; its rows are "date time AM|PM size|<dir> <A HREF".
  if (/\d{1,2}:\d{2} [ap]m {1,20}(?:\d{1,15}|&lt;dir&gt;) <a href=/i.test(head)) return 'iis';
  if (!/<(?:title|h1|h2)>index of /.test(lower)) return undefined;
  if (lower.includes('lighttpd') || lower.includes('<td class="n">')) return 'lighttpd';
  if (lower.includes('apache') || lower.includes('?c=n;o=d') || lower.includes('parent directory'))
    return 'apache';
  if (lower.includes('<pre>')) return 'nginx';
  return 'index';
}

/** Child of `base` that `href` names, or undefined for parents, sort links and other sites. */
function childOf(href: string, base: URL): { name: string; directory: boolean; href: string } | undefined {
  if (href === '' || href.startsWith('?') || href.startsWith('#')) return undefined;
  let resolved: URL;
  try {
    resolved = new URL(href, base);
  } catch {
    return undefined;
  }
  if (resolved.origin !== base.origin) return undefined;
  const dir = base.pathname.slice(0, base.pathname.lastIndexOf('/') + 1);
  if (!resolved.pathname.startsWith(dir)) return undefined;
  let rest = resolved.pathname.slice(dir.length);
  const directory = rest.endsWith('/');
  if (directory) rest = rest.slice(0, -1);
  if (rest === '' || rest.includes('/')) return undefined;
  let name: string;
  try {
    name = decodeURIComponent(rest);
  } catch {
    name = rest;
  }
  return { name: sanitizeText(name), directory, href: resolved.href };
}

/**
 * Entries of an HTML listing, scanned link by link with `indexOf`, bounded slices and simple linear
 * regexes, so each stretch of the page is looked at a bounded number of times. The size sits on the link's row: after it for nginx
 * (ngx_http_autoindex_module: name, date, size), Apache (mod_autoindex: name, date, size,
 * description) and lighttpd (mod_dirlisting: name, modified, size, type); before it for IIS
 * (date, time, size or `<dir>`, link). Python's http.server lists names only.
 */
function parseHtmlListing(
  body: string,
  flavor: ListingFlavor,
  base: URL,
  onEntry: (e: ListingEntry) => void,
): void {
  const anchor = /<a\s/gi;
  const closeOrNext = /<\/a\s*>|<a\s/gi;
  let match: RegExpExecArray | null;
  while ((match = anchor.exec(body)) !== null) {
    const start = match.index;
    const tagEnd = body.indexOf('>', start);
    if (tagEnd < 0) return;
    if (tagEnd - start > maxTagChars) {
      anchor.lastIndex = tagEnd + 1;
      continue;
    }
    const tag = body.slice(start, tagEnd + 1);
    const href = /\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i.exec(tag);
    const raw = href?.[1] ?? href?.[2] ?? href?.[3];
    // The link ends at its `</a>`; searching stops at the next `<a` too, so each stretch of the
    // page is scanned once however many unclosed links it holds.
    closeOrNext.lastIndex = tagEnd + 1;
    const ending = closeOrNext.exec(body);
    const after = ending?.[0].startsWith('</') === true ? ending.index + ending[0].length : tagEnd + 1;
    anchor.lastIndex = after;
    if (raw === undefined) continue;
    const child = childOf(decodeEntities(raw), base);
    if (child === undefined) continue;
    const entry: ListingEntry = { ...child };
    if (!child.directory && flavor !== 'python') {
      let row: string;
      if (flavor === 'iis') {
        const rowStart = Math.max(body.lastIndexOf('>', start - 1) + 1, start - maxRowChars);
        row = body.slice(rowStart, start);
      } else {
        row = body.slice(after, after + maxRowChars);
        // A row ends at its line break, or where the next link starts.
        const newline = row.indexOf('\n');
        if (newline >= 0) row = row.slice(0, newline);
        const nextLink = row.search(/<a\s/i);
        if (nextLink >= 0) row = row.slice(0, nextLink);
      }
      const size = firstSize(row, flavor === 'iis');
      if (size !== undefined) {
        entry.bytes = size.bytes;
        if (size.approximate) entry.approximate = true;
      }
    }
    onEntry(entry);
  }
}

/**
 * Entries of nginx's `autoindex_format json` ([{"name","type","mtime","size"}], sizes in bytes),
 * read object by object with a linear scanner so a truncated array still yields what arrived.
 */
function parseJsonListing(body: string, base: URL, onEntry: (e: ListingEntry) => void): void {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let objectStart = -1;
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (inString) {
      if (escaped) escaped = false;
      else if (c === 0x5c) escaped = true;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (c === 0x7b && depth === 2) objectStart = i;
    } else if (c === 0x7d || c === 0x5d) {
      if (c === 0x7d && depth === 2 && objectStart >= 0 && i - objectStart < maxTagChars) {
        const item = jsonListingItem(body.slice(objectStart, i + 1), base);
        if (item !== undefined) onEntry(item);
      }
      depth--;
      if (depth <= 0) return;
    }
  }
}

function jsonListingItem(text: string, base: URL): ListingEntry | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { name, type, size } = value as Record<string, unknown>;
  if (typeof name !== 'string' || name === '' || name.includes('/')) return undefined;
  const directory = type === 'directory';
  const entry: ListingEntry = {
    name: sanitizeText(name),
    directory,
    href: new URL(encodeURIComponent(name) + (directory ? '/' : ''), base).href,
  };
  if (typeof size === 'number' && Number.isInteger(size) && size >= 0) entry.bytes = size;
  return entry;
}

function looksLikeJsonListing(body: string): boolean {
  const head = body.slice(0, 2048);
  return /^\s*\[\s*\{\s*"name"\s*:\s*"[^"]*"\s*,\s*"type"\s*:\s*"(?:file|directory|other)"/.test(head);
}

/** Parses `body` as a directory listing of `base`, or returns undefined when it is not one. */
export function parseListing(
  body: string,
  base: URL,
  onEntry: (e: ListingEntry) => void,
): ListingFlavor | undefined {
  if (looksLikeJsonListing(body)) {
    parseJsonListing(body, base, onEntry);
    return 'json';
  }
  const flavor = listingFlavor(body.slice(0, signatureBytes));
  if (flavor === undefined) return undefined;
  parseHtmlListing(body, flavor, base, onEntry);
  return flavor;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function mediaType(headers: IncomingHttpHeaders): string {
  return (header(headers, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function contentLength(headers: IncomingHttpHeaders): number | undefined {
  const text = header(headers, 'content-length');
  if (text === undefined || !/^\d{1,15}$/.test(text.trim())) return undefined;
  return Number(text.trim());
}

/** `nginx/1.22.1` → nginx 1.22.1; `Apache/2.4.57 (Debian)` → apache 2.4.57 (RFC 9110 §10.2.4). */
export function serverInfo(headers: IncomingHttpHeaders): ServerInfo {
  const text = header(headers, 'server')?.trim();
  const first = text?.split(/\s+/)[0];
  if (first === undefined || first === '') return { product: 'http' };
  const slash = first.indexOf('/');
  const product = sanitizeText((slash < 0 ? first : first.slice(0, slash)).toLowerCase(), 40);
  const version = slash < 0 ? '' : sanitizeText(first.slice(slash + 1), 40);
  if (product === '') return { product: 'http' };
  return version === '' ? { product } : { product, version };
}

function lastSegment(pathname: string): string {
  try {
    return decodeURIComponent(pathname.slice(pathname.lastIndexOf('/') + 1));
  } catch {
    return pathname.slice(pathname.lastIndexOf('/') + 1);
  }
}

function startsWithBytes(body: Buffer, magic: readonly number[]): boolean {
  return body.length >= magic.length && magic.every((b, i) => body[i] === b);
}

// Magic numbers: gzip (RFC 1952 §2.3.1), zip local header (PKWARE APPNOTE 4.3.7), 7z, bzip2, xz,
// zstd (RFC 8878 §3.1.1), SQLite ("SQLite format 3\0"), pg_dump custom format ("PGDMP").
const archiveMagic: readonly (readonly number[])[] = [
  [0x1f, 0x8b],
  [0x50, 0x4b, 0x03, 0x04],
  [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c],
  [0x42, 0x5a, 0x68],
  [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00],
  [0x28, 0xb5, 0x2f, 0xfd],
];
const databaseMagic: readonly (readonly number[])[] = [
  [...Buffer.from('SQLite format 3\0')],
  [...Buffer.from('PGDMP')],
];

function looksLikeCsv(text: string): boolean {
  const lines = text.split(/\r?\n/, 3);
  const [first, second] = lines;
  if (first === undefined || second === undefined || first.includes('<')) return false;
  for (const separator of [',', '\t', ';']) {
    const count = first.split(separator).length - 1;
    if (count >= 1 && second.split(separator).length - 1 === count) return true;
  }
  return false;
}

// mysqldump and mariadb-dump start with "-- MySQL dump" / "-- MariaDB dump"; pg_dump's plain format
// with "-- PostgreSQL database dump"; other SQL exports at least hold DDL or INSERTs.
function looksLikeSql(text: string): boolean {
  const head = text.slice(0, 4096);
  return (
    /^\s*-- (?:MySQL|MariaDB) dump/.test(head) ||
    head.includes('PostgreSQL database dump') ||
    /\b(?:CREATE TABLE|INSERT INTO|COPY [\w."]+ \()/i.test(head)
  );
}

function looksLikeEnv(text: string): boolean {
  if (text.trimStart().startsWith('<')) return false;
  const assignments = text.slice(0, 4096).match(/^[ \t]*(?:export[ \t]+)?[A-Za-z_][A-Za-z0-9_]*=/gm);
  return (assignments?.length ?? 0) >= 1;
}

/**
 * What kind of data file `res` is, from its media type, its path's extension and its first bytes;
 * undefined for a web page. At `/` (nobody asked for a file) a JSON object is an API answer, not a
 * data file, so only stronger evidence counts there.
 */
function sniffData(res: HttpResponse, pathname: string, atRoot: boolean): DataKind | undefined {
  const type = mediaType(res.headers);
  const body = res.body;
  if (archiveMagic.some((m) => startsWithBytes(body, m))) return 'archive';
  if (databaseMagic.some((m) => startsWithBytes(body, m))) return 'database';
  if (type.includes('html') || type.includes('xml')) return undefined;
  const text = body
    .subarray(0, sniffBytes)
    .toString('utf8')
    .replace(/^\uFEFF/, '');
  const trimmed = text.trimStart();
  const named = lastSegment(pathname);
  if (type === 'application/sql' || type === 'application/x-sql' || looksLikeSql(text)) return 'sql';
  if (type === 'text/csv' || type === 'text/tab-separated-values') return 'csv';
  if (type.includes('json') || trimmed.startsWith('[') || trimmed.startsWith('{')) {
    if (trimmed.startsWith('[')) return 'json';
    if (trimmed.startsWith('{') && (!atRoot || type.includes('ndjson'))) return 'json';
    return undefined;
  }
  if (named.toLowerCase().endsWith('.env') && looksLikeEnv(text)) return 'env';
  if (looksLikeCsv(text)) return 'csv';
  if (
    isDataFileName(named) &&
    (type === 'application/octet-stream' || type === '' || !type.startsWith('text/'))
  )
    return 'binary';
  return undefined;
}

// The one check that the well-known path really holds what its name says.
function matchesKind(res: HttpResponse, kind: DataKind): boolean {
  const text = res.body
    .subarray(0, sniffBytes)
    .toString('utf8')
    .replace(/^\uFEFF/, '');
  switch (kind) {
    case 'env':
      return looksLikeEnv(text);
    case 'sql':
      return looksLikeSql(text);
    case 'json':
      return /^\s*[[{]/.test(text) && !mediaType(res.headers).includes('html');
    case 'csv':
      return looksLikeCsv(text);
    case 'archive':
      return archiveMagic.some((m) => startsWithBytes(res.body, m));
    case 'database':
    case 'binary':
      return false;
  }
}

interface Session {
  ctx: ProbeContext;
  requestsLeft: number;
  /** Basic credentials, sent only to the origin the user named. */
  authorization?: string;
  origin: string;
}

// Credentials go only to the origin the user named, never to another one a redirect led to.
function authHeaders(session: Session, url: URL): Record<string, string> {
  return session.authorization !== undefined && url.origin === session.origin
    ? { authorization: session.authorization }
    : {};
}

async function send(
  session: Session,
  url: URL,
  method: 'GET' | 'HEAD',
  maxBytesFor?: (status: number, headers: IncomingHttpHeaders) => number,
): Promise<HttpResponse> {
  session.requestsLeft--;
  return httpRequest(url, {
    method,
    signal: session.ctx.signal,
    maxBytes: session.ctx.maxBytes,
    headers: authHeaders(session, url),
    ...(maxBytesFor === undefined ? {} : { maxBytesFor }),
  });
}

// A listing (HTML or JSON) is read up to the scan's cap; anything else only far enough to sniff it.
function bodyCapFor(url: URL, ctx: ProbeContext) {
  return (status: number, headers: IncomingHttpHeaders): number => {
    if (status < 200 || status >= 300) return sniffBytes;
    const type = mediaType(headers);
    const listingType =
      type === '' ||
      type.includes('html') ||
      (type.includes('json') && !isDataFileName(lastSegment(url.pathname)));
    return listingType ? ctx.maxBytes : sniffBytes;
  };
}

function displayPath(url: URL): string {
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    path = url.pathname;
  }
  return sanitizeText(path, 120);
}

interface DataFile {
  name: string;
  bytes?: number;
}

function collectionsResult(
  files: readonly DataFile[],
  approximate: boolean,
): { size: StoreSize; collections: CollectionInfo[] } {
  let bytes = 0;
  let known = false;
  let unknown = false;
  for (const file of files) {
    if (file.bytes === undefined) unknown = true;
    else {
      bytes += file.bytes;
      known = true;
    }
  }
  const size: StoreSize = { collections: files.length, records: files.length };
  if (known) size.bytes = bytes;
  if (approximate || (known && unknown)) size.approximate = true;
  const collections = files
    .slice(0, maxCollections)
    .map((f) => (f.bytes === undefined ? { name: f.name } : { name: f.name, bytes: f.bytes }));
  return { size, collections };
}

async function listingResult(
  session: Session,
  res: HttpResponse,
  url: URL,
  server: ServerInfo,
): Promise<{ result: ProbeResult; files: SampleSource[] } | undefined> {
  const body = res.body.toString('utf8');
  const dir = displayPath(new URL('.', url));
  // An object, not locals: the parser's callback updates it.
  const tally = { entries: 0, directories: 0, dataFiles: 0, dataBytes: 0, sizedFiles: 0, rounded: false };
  // Reported up to maxCollections; every data file is still counted in `size`.
  const files: (DataFile & { href: string })[] = [];
  const count = (entry: ListingEntry): void => {
    tally.entries++;
    if (entry.directory) {
      tally.directories++;
      return;
    }
    if (!isDataFileName(entry.name)) return;
    tally.dataFiles++;
    if (entry.bytes !== undefined) {
      tally.dataBytes += entry.bytes;
      tally.sizedFiles++;
      if (entry.approximate === true) tally.rounded = true;
    }
    if (files.length < maxCollections) {
      const file = { name: `${dir}${entry.name}`, href: entry.href };
      files.push(entry.bytes === undefined ? file : { ...file, bytes: entry.bytes });
    }
  };
  // Counted one entry late: the row the byte cap cut may carry a partial size, so it is left out.
  let pending: ListingEntry | undefined;
  const flavor = parseListing(body, url, (entry) => {
    if (pending !== undefined) count(pending);
    pending = entry;
  });
  if (flavor === undefined) return undefined;
  if (pending !== undefined && !res.truncated) count(pending);
  // Listings without sizes (Python's http.server) are sized with HEAD, within the request budget.
  for (const file of files) {
    if (file.bytes !== undefined) continue;
    if (session.requestsLeft <= 0) break;
    try {
      const head = await send(session, new URL(file.href), 'HEAD');
      const length = head.status >= 200 && head.status < 300 ? contentLength(head.headers) : undefined;
      if (length !== undefined) {
        file.bytes = length;
        tally.dataBytes += length;
        tally.sizedFiles++;
      }
    } catch (error) {
      if (session.ctx.signal.aborted) throw error;
    }
  }
  const size: StoreSize = { collections: tally.dataFiles, records: tally.dataFiles };
  if (tally.sizedFiles > 0) size.bytes = tally.dataBytes;
  if (res.truncated || tally.rounded || (tally.sizedFiles > 0 && tally.sizedFiles < tally.dataFiles))
    size.approximate = true;
  const notes: string[] = [];
  if (res.truncated) notes.push(`listing truncated at ${tally.entries} entries (at least ${tally.entries})`);
  else notes.push(`${tally.entries} entries`);
  notes.push(`${tally.dataFiles} data files`, `${tally.directories} directories`);
  if (tally.rounded) notes.push('sizes rounded by the listing');
  if (tally.sizedFiles < tally.dataFiles)
    notes.push(`${tally.dataFiles - tally.sizedFiles} data files of unknown size`);
  const result: ProbeResult = {
    status: 'open',
    detail: `directory listing (${flavor}) at ${displayPath(url)} readable without authentication: ${notes.join(', ')}`,
    server,
    size,
    collections: files.map((f) =>
      f.bytes === undefined ? { name: f.name } : { name: f.name, bytes: f.bytes },
    ),
  };
  if (tally.entries === 0) result.indicators = ['empty'];
  return {
    result,
    files: files.map((f) => {
      const url = new URL(f.href);
      return { collection: f.name, url, name: lastSegment(url.pathname) };
    }),
  };
}

function directFileResult(res: HttpResponse, url: URL, kind: DataKind, server: ServerInfo): ProbeResult {
  const length = contentLength(res.headers);
  const file: DataFile = { name: displayPath(url) };
  let approximate = false;
  if (length !== undefined) file.bytes = length;
  else if (res.body.length > 0) {
    file.bytes = res.body.length;
    approximate = res.truncated;
  }
  const { size, collections } = collectionsResult([file], approximate);
  return {
    status: 'open',
    detail: `${kind} data file at ${displayPath(url)} readable without authentication`,
    server,
    size,
    collections,
  };
}

async function probeLeakPaths(session: Session, origin: URL): Promise<DataFile[]> {
  const found: DataFile[] = [];
  for (const { path, kind } of leakPaths) {
    if (session.requestsLeft <= 0) break;
    const url = new URL(path, origin);
    try {
      const head = await send(session, url, 'HEAD');
      if (head.status < 200 || head.status >= 300 || mediaType(head.headers).includes('html')) continue;
      if (session.requestsLeft <= 0) break;
      const res = await send(session, url, 'GET', () => sniffBytes);
      if (res.status < 200 || res.status >= 300 || !matchesKind(res, kind)) continue;
      const length = contentLength(head.headers) ?? contentLength(res.headers);
      found.push(length === undefined ? { name: path } : { name: path, bytes: length });
    } catch (error) {
      if (session.ctx.signal.aborted) throw error;
    }
  }
  return found;
}

// Sampling (when the scan classifies): data files read whole, within caps, for the classifier.
// Files fetched per target; sampling's requests are counted apart from the probe's maxRequests.
const maxSampledFiles = 20;
// Per file: a sample needs the first records only; `--full` reads the whole file up to a cap that
// keeps one file's text (a JS string) and its parse comfortably in memory.
const sampleFileBytes = 8 * 1024 * 1024;
const fullFileBytes = 64 * 1024 * 1024;
// Per target, across files: downloads stop once this much was read.
const sampleStoreBytes = 64 * 1024 * 1024;
const fullStoreBytes = 512 * 1024 * 1024;

/** A data file found by the probe that may be read for classification. */
interface SampleSource {
  /** As named in `collections`. */
  collection: string;
  url: URL;
  /** Last path segment, for the format by extension. */
  name: string;
  /** What the probe's sniff saw, for a file without a telling extension. */
  kind?: DataKind;
  /** The whole file, when the probe already read all of it. */
  response?: HttpResponse;
}

type SampleFormat = RecordTextFormat | 'json-or-ndjson';

// RFC 8259 JSON, NDJSON/JSON Lines (one JSON text per line), RFC 4180 CSV, IANA text/tab-separated-values.
const formatByExtension: readonly (readonly [string, SampleFormat])[] = [
  ['.json', 'json-or-ndjson'],
  ['.jsonl', 'ndjson'],
  ['.ndjson', 'ndjson'],
  ['.csv', 'csv'],
  ['.tsv', 'tsv'],
];

function sampleFormat(file: SampleSource): { format: SampleFormat; gzip: boolean } | undefined {
  let lower = file.name.toLowerCase();
  const gzip = lower.endsWith('.gz');
  if (gzip) lower = lower.slice(0, -3);
  const byName = formatByExtension.find(([ext]) => lower.endsWith(ext))?.[1];
  if (byName !== undefined) return { format: byName, gzip };
  if (gzip) return undefined;
  if (file.kind === 'json') return { format: 'json-or-ndjson', gzip: false };
  if (file.kind === 'csv') return { format: 'csv', gzip: false };
  return undefined;
}

/**
 * Gunzips at most `cap` bytes (RFC 1952). A download cut by its own cap ends the stream early; what
 * came out until then is a prefix of the file, marked truncated, as is output past the cap (a
 * compression bomb stops there).
 */
function gunzipCapped(data: Buffer, cap: number): Promise<{ body: Buffer; truncated: boolean }> {
  return new Promise((resolve) => {
    const gunzip = createGunzip();
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (truncated: boolean): void => {
      if (done) return;
      done = true;
      gunzip.destroy();
      resolve({ body: Buffer.concat(chunks), truncated });
    };
    gunzip.on('data', (chunk: Buffer) => {
      if (done) return;
      const room = cap - size;
      if (chunk.length >= room) {
        chunks.push(chunk.subarray(0, room));
        size = cap;
        finish(true);
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
    });
    gunzip.on('end', () => {
      finish(false);
    });
    gunzip.on('error', () => {
      finish(true);
    });
    gunzip.end(data);
  });
}

/** Index just past the last line break outside a quoted field (RFC 4180 §2.6), or 0. */
export function completeCsvEnd(text: string): number {
  let quoted = false;
  let end = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) quoted = !quoted;
    else if (c === 0x0a && !quoted) end = i + 1;
  }
  return end;
}

/**
 * The complete elements of a JSON array whose text was cut short, one per line (NDJSON), found by a
 * linear scan of string and bracket state; the element the cut went through is left out. Raw line
 * breaks can only be whitespace between tokens in JSON (RFC 8259 §7: control characters in strings
 * are escaped), so folding them keeps each element one line.
 */
export function completeArrayElements(text: string): string {
  const out: string[] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  const push = (end: number): void => {
    const element = text.slice(start, end).trim();
    if (element !== '') out.push(element.replace(/[\r\n]+/g, ' '));
    start = -1;
  };
  for (let i = text.indexOf('['); i >= 0 && i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (escaped) escaped = false;
      else if (c === 0x5c) escaped = true;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
      if (depth === 1 && start < 0) start = i;
    } else if (c === 0x7b || c === 0x5b) {
      if (depth === 1 && start < 0) start = i;
      depth++;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 1 && start >= 0) push(i + 1);
      else if (depth <= 0) {
        if (start >= 0) push(i);
        break;
      }
    } else if (c === 0x2c && depth === 1) {
      if (start >= 0) push(i);
    } else if (depth === 1 && start < 0 && c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) start = i;
  }
  return out.join('\n');
}

// A `.json` file holding one object per line is NDJSON: its first line is a whole JSON object
// and more lines follow.
function looksLikeNdjson(text: string): boolean {
  if (!text.startsWith('{')) return false;
  const newline = text.indexOf('\n');
  if (newline < 0 || newline > sniffBytes) return false;
  if (text.slice(newline + 1).trimStart() === '') return false;
  try {
    const first: unknown = JSON.parse(text.slice(0, newline));
    return typeof first === 'object' && first !== null;
  } catch {
    return false;
  }
}

type Prepared = { text: string; format: RecordTextFormat } | { skip: 'truncated' | 'binary' | 'empty' };

/** The part of a (maybe cut) download that holds whole records, in the format to parse it as. */
function prepareText(body: Buffer, truncated: boolean, declared: SampleFormat): Prepared {
  if (body.subarray(0, sniffBytes).includes(0)) return { skip: 'binary' };
  let text = body.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  text = text.trimStart();
  if (text === '') return { skip: 'empty' };
  let format: RecordTextFormat;
  if (declared === 'json-or-ndjson') format = looksLikeNdjson(text) ? 'ndjson' : 'json';
  else format = declared;
  if (!truncated) return { text, format };
  switch (format) {
    case 'json': {
      // A cut array still holds whole records; a cut object (one document) holds nothing certain.
      if (!text.startsWith('[')) return { skip: 'truncated' };
      const lines = completeArrayElements(text);
      return lines === '' ? { skip: 'truncated' } : { text: lines, format: 'ndjson' };
    }
    case 'ndjson': {
      const end = text.lastIndexOf('\n');
      return end <= 0 ? { skip: 'truncated' } : { text: text.slice(0, end + 1), format };
    }
    case 'csv':
    case 'tsv': {
      const end = completeCsvEnd(text);
      return end <= 0 ? { skip: 'truncated' } : { text: text.slice(0, end), format };
    }
  }
}

/**
 * GETs the data files of an open target (JSON, NDJSON, CSV, TSV, gzipped or not) and hands their
 * text to the sink, on sampling's own deadline. Returns a one-line summary of counts (no values).
 */
async function sampleFiles(
  session: Session,
  sampler: RecordSink,
  files: readonly SampleSource[],
): Promise<string> {
  const full = sampler.limit === Infinity;
  const fileCap = Math.max(session.ctx.maxBytes, full ? fullFileBytes : sampleFileBytes);
  const storeCap = full ? fullStoreBytes : sampleStoreBytes;
  const tally = { sampled: 0, partial: 0, bytes: 0, requests: 0 };
  const skipped = new Map<string, number>();
  const skip = (why: string): void => {
    skipped.set(why, (skipped.get(why) ?? 0) + 1);
  };
  const readable = files.flatMap((file) => {
    const format = sampleFormat(file);
    return format === undefined ? [] : [{ file, ...format }];
  });
  if (!(sampler.limit > 0)) return 'no records sampled (limit 0)';
  let stopped: string | undefined;
  // A function, not the property: the property changes under the awaits below.
  const aborted = (): boolean => sampler.signal.aborted;
  for (const { file, format, gzip } of readable) {
    if (tally.requests >= maxSampledFiles) {
      skip(`over the ${maxSampledFiles}-file budget`);
      continue;
    }
    if (tally.bytes >= storeCap) {
      skip('over the byte budget');
      continue;
    }
    if (aborted()) {
      stopped = 'sampling deadline reached';
      break;
    }
    let res = file.response;
    if (res === undefined) {
      tally.requests++;
      try {
        res = await httpRequest(file.url, {
          method: 'GET',
          signal: sampler.signal,
          maxBytes: Math.min(fileCap, storeCap - tally.bytes),
          headers: authHeaders(session, file.url),
        });
      } catch {
        if (aborted()) {
          stopped = 'sampling deadline reached';
          break;
        }
        skip('not readable');
        continue;
      }
    }
    tally.bytes += res.body.length;
    if (res.status < 200 || res.status >= 300 || mediaType(res.headers).includes('html')) {
      skip('not readable');
      continue;
    }
    let body = res.body;
    let truncated = res.truncated;
    const encoded = (header(res.headers, 'content-encoding') ?? '').toLowerCase() === 'gzip';
    if (gzip || encoded) {
      if (!startsWithBytes(body, [0x1f, 0x8b])) {
        skip('not gzip');
        continue;
      }
      const out = await gunzipCapped(body, fileCap);
      body = out.body;
      truncated = truncated || out.truncated;
    }
    const prepared = prepareText(body, truncated, format);
    if ('skip' in prepared) {
      skip(prepared.skip);
      continue;
    }
    sampler.addText(file.collection, prepared.text, prepared.format);
    tally.sampled++;
    if (truncated) tally.partial++;
  }
  const notes = [
    `sampled ${tally.sampled} of ${readable.length} JSON/CSV data files`,
    ...(tally.partial > 0 ? [`${tally.partial} cut at the byte cap (whole records kept)`] : []),
    ...[...skipped].map(([why, n]) => `${n} skipped (${why})`),
    ...(stopped === undefined ? [] : [`sampling stopped early (${stopped})`]),
  ];
  return notes.join(', ');
}

async function withSample(
  session: Session,
  result: ProbeResult,
  files: readonly SampleSource[],
): Promise<ProbeResult> {
  const sampler = session.ctx.sampler;
  if (sampler === undefined || result.status !== 'open') return result;
  let note: string;
  try {
    note = await sampleFiles(session, sampler, files);
  } catch (error) {
    // Only the class of failure: a message could quote what was read.
    note = `sampling failed (${error instanceof Error ? sanitizeText(error.name, 40) : 'error'})`;
  }
  return { ...result, detail: `${result.detail}; ${note}` };
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

function defaultPort(url: URL): number {
  return url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
}

function bareHostname(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

// TLS handshake failures on an https probe mean the port speaks something other than TLS.
function tlsFailure(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && (code === 'EPROTO' || code.startsWith('ERR_SSL_'));
}

async function probeHttp(scheme: Scheme, target: ProbeTarget, ctx: ProbeContext): Promise<ProbeResult> {
  const root = new URL(`${scheme}://${formatHostPort(target.host, target.port)}/`);
  const named = target.path !== undefined && target.path !== '';
  let url = named ? new URL(`/${target.path ?? ''}`, root) : root;
  const session: Session = { ctx, requestsLeft: maxRequests, origin: root.origin };
  if (target.username !== undefined || target.password !== undefined) {
    const pair = `${target.username ?? ''}:${target.password ?? ''}`;
    session.authorization = `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
  }
  const withCredentials = session.authorization !== undefined;
  let server: ServerInfo | undefined;
  try {
    let res: HttpResponse;
    for (let hops = 0; ; hops++) {
      res = await send(session, url, 'GET', bodyCapFor(url, ctx));
      server = serverInfo(res.headers);
      const location = header(res.headers, 'location');
      if (!isRedirect(res.status) || location === undefined) break;
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        return { status: 'error', detail: `HTTP ${res.status} to an invalid Location`, server };
      }
      const shown = sanitizeText(`${next.protocol}//${next.host}${next.pathname}`, 120);
      if (hops >= maxRedirects)
        return { status: 'error', detail: `more than ${maxRedirects} redirects (last to ${shown})`, server };
      // Same scheme, or an upgrade to https; never a downgrade or another scheme.
      if (next.protocol !== url.protocol && !(url.protocol === 'http:' && next.protocol === 'https:'))
        return { status: 'error', detail: `redirect to ${shown} not followed (scheme change)`, server };
      if (session.requestsLeft <= 0)
        return {
          status: 'error',
          detail: `redirect to ${shown} not followed (request budget spent)`,
          server,
        };
      try {
        await ctx.checkScope(bareHostname(next), defaultPort(next));
      } catch (error) {
        if (!(error instanceof ScopeError)) throw error;
        return {
          status: 'error',
          detail: sanitizeText(`redirect to ${shown} not followed: out of scope (${error.message})`, 300),
          server,
        };
      }
      url = next;
    }
    const status = res.status;
    if (
      status === 401 ||
      status === 407 ||
      (status === 403 && header(res.headers, 'www-authenticate') !== undefined)
    ) {
      const challenge = header(res.headers, 'www-authenticate') ?? header(res.headers, 'proxy-authenticate');
      const scheme = challenge === undefined ? '' : ` (${sanitizeText(challenge.split(/\s+/)[0] ?? '', 20)})`;
      return {
        status: 'auth-required',
        detail: withCredentials
          ? `HTTP ${status}: the given credentials were rejected at ${displayPath(url)}`
          : `HTTP ${status}: ${displayPath(url)} requires authentication${scheme}`,
        server,
      };
    }
    if (status >= 200 && status < 300) {
      const listing = await listingResult(session, res, url, server);
      if (listing !== undefined)
        return await withSample(session, withCredentialsNote(listing.result, withCredentials), listing.files);
      const kind = sniffData(res, url.pathname, !named);
      if (kind !== undefined) {
        const file: SampleSource = {
          collection: displayPath(url),
          url,
          name: lastSegment(url.pathname),
          kind,
          ...(res.truncated ? {} : { response: res }),
        };
        const result = withCredentialsNote(directFileResult(res, url, kind, server), withCredentials);
        return await withSample(session, result, [file]);
      }
    }
    if (!named && url.pathname === '/') {
      const found = await probeLeakPaths(session, url);
      if (found.length > 0) {
        const { size, collections } = collectionsResult(found, false);
        const result = withCredentialsNote(
          {
            status: 'open',
            detail: `data files readable without authentication at well-known paths: ${found.map((f) => f.name).join(', ')}`,
            server,
            size,
            collections,
          },
          withCredentials,
        );
        const files = found.map((f) => ({
          collection: f.name,
          url: new URL(f.name, url),
          name: f.name.slice(1),
        }));
        return await withSample(session, result, files);
      }
    }
    return {
      status: 'other-protocol',
      detail: `HTTP server with no directory listing or data file at ${displayPath(url)} (HTTP ${status})`,
      server,
    };
  } catch (error) {
    if (scheme === 'https' && !ctx.signal.aborted && tlsFailure(error))
      return { status: 'other-protocol', detail: 'no TLS handshake: the port does not speak https' };
    const failure = probeFailure(error, ctx);
    return server === undefined ? failure : { ...failure, server };
  }
}

function withCredentialsNote(result: ProbeResult, withCredentials: boolean): ProbeResult {
  if (!withCredentials) return result;
  return { ...result, detail: result.detail.replace('without authentication', 'with the given credentials') };
}

/**
 * Plain HTTP: open when a directory listing (nginx, Apache, lighttpd, Python, IIS, nginx JSON) or a
 * data file is readable without credentials at the target path. GET and HEAD only, redirects
 * followed only after a scope check, at most {@link maxRequests} requests per target. `size.records`
 * counts data files (row counts inside them are unknown without downloading them).
 */
export const httpConnector = {
  defaultPorts: [80, 8080, 8000],
  probe: (target: ProbeTarget, ctx: ProbeContext): Promise<ProbeResult> => probeHttp('http', target, ctx),
} satisfies Connector;

/** The same over TLS; certificates are not verified (http-request.ts). */
export const httpsConnector = {
  defaultPorts: [443, 8443],
  probe: (target: ProbeTarget, ctx: ProbeContext): Promise<ProbeResult> => probeHttp('https', target, ctx),
} satisfies Connector;
