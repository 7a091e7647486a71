import { formatHostPort } from '../core/parse-target.js';
import { sanitizeText } from '../core/redact.js';
import type { CollectionInfo, ServerInfo } from '../core/scan-report.js';
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

// Buckets listed per probe, and ListObjectsV2 pages (1,000 keys each at most) per bucket: past
// these the counts are lower bounds ("at least N objects").
const maxBuckets = 50;
const maxPages = 10;
// Objects read per bucket for samples, and the most read of each (a ranged GET).
const maxSampleObjects = 20;
const maxSampleBytes = 8 << 20;

type Get = (path: string, headers?: Record<string, string>) => Promise<HttpResponse>;

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function header(response: HttpResponse, name: string): string {
  const value = response.headers[name];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

// XML predefined entities and character references (https://www.w3.org/TR/xml/#sec-predefined-ent);
// S3 escapes keys this way in every listing.
function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_m, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(Number.parseInt(entity.slice(1), 10));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[entity] ?? '';
  });
}

/**
 * The raw contents of every `<tag>…</tag>` in `xml`, in order. S3's answers are flat, attribute-free
 * elements below the root, so a linear scan is enough and no XML library is needed.
 */
function elements(xml: string, tag: string): string[] {
  const out: string[] = [];
  const open = `<${tag}>`;
  const close = `</${tag}>`;
  let at = 0;
  for (;;) {
    const start = xml.indexOf(open, at);
    if (start < 0) return out;
    const end = xml.indexOf(close, start + open.length);
    if (end < 0) return out;
    out.push(xml.slice(start + open.length, end));
    at = end + close.length;
  }
}

function text(xml: string, tag: string): string | undefined {
  const first = elements(xml, tag)[0];
  return first === undefined ? undefined : unescapeXml(first);
}

function hasRoot(xml: string, tag: string): boolean {
  return new RegExp(`<${tag}[\\s>]`).test(xml);
}

/**
 * S3 error body (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html):
 * `<Error><Code>AccessDenied</Code><Message>…</Message><RequestId>…</RequestId></Error>`.
 */
function errorCode(body: string): string | undefined {
  return hasRoot(body, 'Error') ? text(body, 'Code') : undefined;
}

/**
 * Who answers: MinIO sends `Server: MinIO`, AWS `Server: AmazonS3`; any S3 API sends
 * `x-amz-request-id` and answers in S3's XML. A plain web server does neither.
 */
function identify(response: HttpResponse, body: string): ServerInfo | undefined {
  const server = header(response, 'server');
  if (/^MinIO/i.test(server)) return { product: 'minio' };
  if (/^AmazonS3/i.test(server)) return { product: 'amazon-s3' };
  const s3Xml =
    hasRoot(body, 'ListAllMyBucketsResult') ||
    (errorCode(body) !== undefined && body.includes('<RequestId>'));
  if (s3Xml || (header(response, 'x-amz-request-id') !== '' && body.trimStart().startsWith('<'))) {
    return { product: 's3' };
  }
  return undefined;
}

function namedBucket(path: string | undefined): string | undefined {
  const first = path?.split('/')[0];
  if (first === undefined || first === '') return undefined;
  try {
    return decodeURIComponent(first);
  } catch {
    return first;
  }
}

interface ObjectEntry {
  key: string;
  size: number;
}

interface BucketListing {
  name: string;
  status: 'readable' | 'denied' | 'missing' | 'error';
  code?: string;
  objects: number;
  bytes: number;
  /** More pages than read: counts are lower bounds. */
  capped: boolean;
  samples: ObjectEntry[];
}

function sampleFormat(key: string): RecordTextFormat | undefined {
  const lower = key.toLowerCase();
  if (lower.endsWith('.json')) return 'json';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'ndjson';
  if (lower.endsWith('.csv')) return 'csv';
  return undefined;
}

/**
 * ListObjectsV2 (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html), path
 * style, paged by `continuation-token` up to `maxPages`: `Contents` (Key, Size), `IsTruncated`,
 * `NextContinuationToken`.
 */
async function listBucket(get: Get, name: string): Promise<BucketListing> {
  const listing: BucketListing = {
    name,
    status: 'readable',
    objects: 0,
    bytes: 0,
    capped: false,
    samples: [],
  };
  let token: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const query = `list-type=2&max-keys=1000${token === undefined ? '' : `&continuation-token=${encodeURIComponent(token)}`}`;
    const response = await get(`/${encodeURIComponent(name)}?${query}`);
    const body = response.body.toString('utf8');
    if (response.status !== 200 || !hasRoot(body, 'ListBucketResult')) {
      const code = errorCode(body);
      if (page > 0) return { ...listing, capped: true };
      const status =
        response.status === 403 || response.status === 401
          ? 'denied'
          : response.status === 404 || code === 'NoSuchBucket'
            ? 'missing'
            : 'error';
      return { ...listing, status, ...(code === undefined ? {} : { code: sanitizeText(code, 40) }) };
    }
    for (const entry of elements(body, 'Contents')) {
      const key = text(entry, 'Key');
      const size = Number(text(entry, 'Size') ?? '');
      if (key === undefined) continue;
      listing.objects++;
      if (Number.isSafeInteger(size) && size >= 0) listing.bytes += size;
      if (
        listing.samples.length < maxSampleObjects &&
        sampleFormat(key) !== undefined &&
        Number.isSafeInteger(size) &&
        size > 0
      ) {
        listing.samples.push({ key, size });
      }
    }
    token = text(body, 'NextContinuationToken');
    if (text(body, 'IsTruncated') !== 'true' || token === undefined) return listing;
  }
  return { ...listing, capped: true };
}

/**
 * Ranged GETs (RFC 9110 §14, https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html)
 * of the first bytes of small JSON/CSV objects; a cut NDJSON/CSV ends at its last full line, a cut
 * JSON document is skipped (it would not parse).
 */
async function sampleBucket(
  get: Get,
  bucket: BucketListing,
  sampler: RecordSink,
  maxBytes: number,
): Promise<number> {
  const range = Math.min(maxBytes, maxSampleBytes);
  let read = 0;
  for (const object of bucket.samples) {
    const format = sampleFormat(object.key);
    if (format === undefined) continue;
    const cut = object.size > range;
    if (cut && format === 'json') continue;
    const path = `/${encodeURIComponent(bucket.name)}/${object.key.split('/').map(encodeURIComponent).join('/')}`;
    const response = await get(path, { range: `bytes=0-${range - 1}` });
    if (response.status !== 200 && response.status !== 206) continue;
    let body = response.body.toString('utf8');
    if (cut || response.truncated) {
      const lastLine = body.lastIndexOf('\n');
      if (format === 'json' || lastLine < 0) continue;
      body = body.slice(0, lastLine + 1);
    }
    sampler.addText(bucket.name, body, format);
    read++;
  }
  return read;
}

/**
 * S3-compatible object storage (MinIO, AWS S3 and others) over plain HTTP, anonymous GET only
 * (DESIGN.md invariant 1): ListBuckets, then ListObjectsV2 of each listed bucket or the one the
 * target path names (`s3://host:9000/bucket`). Open when a bucket listing is readable
 * anonymously. Named credentials are not used: S3 wants SigV4-signed requests, not Basic auth.
 */
export const s3Connector = {
  defaultPorts: [9000],
  async probe(target: ProbeTarget, ctx: ProbeContext): Promise<ProbeResult> {
    const base = `http://${formatHostPort(target.host, target.port)}`;
    const getWith =
      (signal: AbortSignal): Get =>
      (path, headers) =>
        httpRequest(new URL(path, base), {
          signal,
          maxBytes: ctx.maxBytes,
          ...(headers === undefined ? { rejectLarger: true } : { headers }),
        });
    const get = getWith(ctx.signal);
    const credentialsNote =
      target.username !== undefined || target.password !== undefined
        ? ' (named credentials unused: S3 needs SigV4 signing)'
        : '';
    try {
      // ListBuckets (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html).
      const root = await get('/');
      const rootBody = root.body.toString('utf8');
      const server = identify(root, rootBody);
      if (!server) {
        return { status: 'other-protocol', detail: `HTTP ${root.status} on GET /, not an S3 API answer` };
      }
      let names: string[];
      const named = namedBucket(target.path);
      const listedAll = root.status === 200 && hasRoot(rootBody, 'ListAllMyBucketsResult');
      if (named !== undefined) names = [named];
      else if (listedAll)
        names = elements(rootBody, 'Bucket')
          .map((b) => text(b, 'Name') ?? '')
          .filter((n) => n !== '');
      else {
        const code = errorCode(rootBody);
        return {
          status: 'auth-required',
          detail:
            `${server.product} refuses anonymous ListBuckets (HTTP ${root.status}${code === undefined ? '' : ` ${sanitizeText(code, 40)}`}); ` +
            `name a bucket in the target path to check it${credentialsNote}`,
          server,
        };
      }

      const checked = names.slice(0, maxBuckets);
      const listings: BucketListing[] = [];
      for (const name of checked) listings.push(await listBucket(get, name));
      const first = listings[0];
      if (named !== undefined && first?.status === 'missing') {
        return {
          status: 'error',
          detail: sanitizeText(`bucket "${named}" does not exist (NoSuchBucket)`),
          server,
        };
      }
      const existing = listings.filter((l) => l.status !== 'missing');
      const readable = existing.filter((l) => l.status === 'readable');
      const collections: CollectionInfo[] = existing
        .map((l) => ({
          name: sanitizeText(l.name, 255),
          ...(l.status === 'readable' ? { records: l.objects, bytes: l.bytes } : {}),
        }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const capped = readable.filter((l) => l.capped).length;
      const moreBuckets = names.length > checked.length;
      const records = readable.reduce((sum, l) => sum + l.objects, 0);
      const bytes = readable.reduce((sum, l) => sum + l.bytes, 0);
      const approximate = capped > 0 || moreBuckets || readable.length < existing.length;
      const size = {
        collections: moreBuckets ? names.length : existing.length,
        records,
        bytes,
        ...(approximate ? { approximate: true } : {}),
      };
      if (readable.length === 0 && existing.length > 0) {
        return {
          status: 'auth-required',
          detail: `${server.product} answers, but ${existing.length === 1 ? 'the bucket listing is' : `all ${existing.length} bucket listings are`} denied anonymously${credentialsNote}`,
          server,
          size,
          collections,
        };
      }
      const how = listedAll ? 'ListBuckets and ListObjectsV2' : `ListObjectsV2 of bucket "${named ?? ''}"`;
      const result: ProbeResult = {
        status: 'open',
        detail: sanitizeText(
          `${how} answered without authentication; ${capped > 0 ? 'at least ' : ''}${plural(records, 'object')} in ` +
            `${plural(readable.length, 'readable bucket')} of ${existing.length}` +
            `${capped > 0 ? ` (${capped} past the ${maxPages}-page cap)` : ''}${moreBuckets ? `; only the first ${maxBuckets} buckets checked` : ''}${credentialsNote}`,
          300,
        ),
        server,
        size,
        collections,
      };
      if (records === 0 && !approximate) result.indicators = ['empty'];
      const sampler = ctx.sampler;
      if (sampler !== undefined && sampler.limit > 0) {
        const sampleGet = getWith(sampler.signal);
        let objects = 0;
        let stopped = '';
        for (const listing of readable) {
          try {
            objects += await sampleBucket(sampleGet, listing, sampler, ctx.maxBytes);
          } catch {
            if (sampler.signal.aborted) {
              stopped = '; stopped at the sampling time limit';
              break;
            }
          }
        }
        result.detail = sanitizeText(`${result.detail}; sampled ${plural(objects, 'object')}${stopped}`, 300);
      }
      return result;
    } catch (error) {
      return probeFailure(error, ctx);
    }
  },
} satisfies Connector;
