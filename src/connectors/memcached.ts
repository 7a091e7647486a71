import { ProtocolError } from '../core/errors.js';
import { sanitizeText } from '../core/redact.js';
import type { CollectionInfo } from '../core/scan-report.js';
import type { Connector, ProbeContext, ProbeResult, ProbeTarget, RecordSink } from './connector.js';
import { keyFamily } from './key-family.js';
import { probeFailure } from './network-failure.js';
import { TcpSession } from './tcp-session.js';

// memcached text protocol: https://github.com/memcached/memcached/blob/master/doc/protocol.txt
// Answers are CRLF lines; `stats` ends with `END`, failures are `ERROR`, `CLIENT_ERROR <text>` or
// `SERVER_ERROR <text>` ("Error strings" in protocol.txt). TCP only: UDP answers can be spoofed and
// amplified, so Leakwatch never sends memcached a datagram.

const errorLine = /^(?:ERROR|CLIENT_ERROR|SERVER_ERROR)(?: |$)/;
// A first line longer than this without CRLF is not a memcached answer.
const maxLineBytes = 8 * 1024;
// Metadump lines read at most: a key list of a large cache is sampled and counted this far.
const maxMetadumpLines = 100_000;
// Family counters live in memory for the whole run; a keyspace of random names must not grow them.
const maxFamilies = 10_000;
// A value past this is not read: a 1 MB item is memcached's default maximum anyway (`-I`).
const maxValueBytes = 1024 * 1024;
// Keys per multi-key `get`, and the summed item sizes of one batch.
const maxKeysPerGet = 100;
const maxBatchBytes = 4 * 1024 * 1024;

/** The first CRLF line of `buffer` and its length with CRLF, or undefined while incomplete. */
function firstLine(buffer: Buffer, from = 0): { line: string; end: number } | undefined {
  const at = buffer.indexOf('\r\n', from);
  if (at < 0) {
    if (buffer.length - from > maxLineBytes) throw new ProtocolError('answer is not memcached text protocol');
    return undefined;
  }
  return { line: buffer.toString('latin1', from, at), end: at + 2 };
}

/** A `stats` answer: `STAT <name> <value>` lines up to `END`, or one error line. */
function readStatsFrame(buffer: Buffer): number | undefined {
  let from = 0;
  for (;;) {
    const next = firstLine(buffer, from);
    if (next === undefined) return undefined;
    if (next.line === 'END' || errorLine.test(next.line)) return next.end;
    if (!next.line.startsWith('STAT ')) throw new ProtocolError('answer is not memcached text protocol');
    from = next.end;
  }
}

/**
 * One line of a metadump: memcached 1.6 ends each `key=… exp=…` line with a bare LF and only the
 * final `END` with CRLF, so LF ends a line here and a trailing CR is dropped by the caller.
 */
function readLineFrame(buffer: Buffer): number | undefined {
  const at = buffer.indexOf(10);
  if (at < 0) {
    if (buffer.length > maxLineBytes) throw new ProtocolError('answer is not memcached text protocol');
    return undefined;
  }
  return at + 1;
}

/** A `get` answer: `VALUE <key> <flags> <bytes>` + data blocks, then `END`. */
function readGetFrame(buffer: Buffer): number | undefined {
  let from = 0;
  for (;;) {
    const next = firstLine(buffer, from);
    if (next === undefined) return undefined;
    if (next.line === 'END' || errorLine.test(next.line)) return next.end;
    const value = /^VALUE \S+ \d+ (\d+)/.exec(next.line);
    if (value === null) throw new ProtocolError('unexpected line in a memcached get answer');
    const end = next.end + Number(value[1]) + 2;
    if (buffer.length < end) return undefined;
    from = end;
  }
}

function statsOf(frame: Buffer): Map<string, string> {
  const stats = new Map<string, string>();
  for (const line of frame.toString('latin1').split('\r\n')) {
    const match = /^STAT (\S+) (.*)$/.exec(line);
    if (match !== null) stats.set(match[1] ?? '', match[2] ?? '');
  }
  return stats;
}

function errorOf(frame: Buffer): string | undefined {
  const line = frame.toString('latin1').split('\r\n')[0] ?? '';
  return errorLine.test(line) ? line : undefined;
}

interface Family {
  count: number;
  /** Keys kept for sampling (at most `sampler.limit`), with their item sizes. */
  keys: { key: string; size: number }[];
}

interface Metadump {
  families: Map<string, Family>;
  lines: number;
  complete: boolean;
  familiesCapped: boolean;
}

// A key the text protocol can carry: no whitespace or control characters, at most 250 bytes.
function sendableKey(key: string): boolean {
  // eslint-disable-next-line no-control-regex
  return Buffer.byteLength(key) <= 250 && !/[\x00-\x20\x7f]/.test(key);
}

/**
 * `lru_crawler metadump all`: one line per item, `key=<url-encoded> exp=… la=… cas=… fetch=… cls=…
 * size=…`, then `END` (protocol.txt, "lru_crawler metadump"). Counted per key family; read at most
 * `maxMetadumpLines` lines. Undefined when the crawler is off or busy.
 */
async function metadump(session: TcpSession, keep: number): Promise<Metadump | undefined> {
  const dump: Metadump = { families: new Map(), lines: 0, complete: false, familiesCapped: false };
  let send: string | undefined = 'lru_crawler metadump all\r\n';
  while (dump.lines < maxMetadumpLines) {
    const line = (await session.request(send, readLineFrame)).toString('latin1').replace(/\r?\n$/, '');
    send = undefined;
    if (line === 'END') {
      dump.complete = true;
      return dump;
    }
    if (!line.startsWith('key=')) return dump.lines === 0 ? undefined : dump;
    dump.lines++;
    const fields = new Map(
      line.split(' ').map((part) => [part.split('=')[0], part.slice(part.indexOf('=') + 1)]),
    );
    const encoded = fields.get('key') ?? '';
    // A key that is not UTF-8 still counts in its family (by its encoded form) but is not read.
    let key: string | undefined;
    try {
      key = decodeURIComponent(encoded);
    } catch {
      key = undefined;
    }
    const name = keyFamily(key ?? encoded);
    let family = dump.families.get(name);
    if (family === undefined) {
      if (dump.families.size >= maxFamilies) {
        dump.familiesCapped = true;
        continue;
      }
      family = { count: 0, keys: [] };
      dump.families.set(name, family);
    }
    family.count++;
    const size = Number(fields.get('size'));
    if (
      key !== undefined &&
      family.keys.length < keep &&
      sendableKey(key) &&
      Number.isFinite(size) &&
      size <= maxValueBytes
    )
      family.keys.push({ key, size });
  }
  return dump;
}

/** `stats items`: `STAT items:<class>:number <n>` per slab class holding items. */
function slabCollections(stats: Map<string, string>): CollectionInfo[] {
  const collections: CollectionInfo[] = [];
  for (const [name, value] of stats) {
    const match = /^items:(\d+):number$/.exec(name);
    if (match !== null && Number(value) > 0)
      collections.push({ name: `slab ${match[1] ?? ''}`, records: Number(value) });
  }
  return collections;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Bounded multi-key `get`s on their own connection and deadline; values over 1 MB were left out. */
async function sampleMemcached(
  target: ProbeTarget,
  ctx: ProbeContext,
  sampler: RecordSink,
  dump: Metadump,
): Promise<string> {
  const wanted = [...dump.families].flatMap(([family, f]) => f.keys.map((k) => ({ family, ...k })));
  const cap = Math.min(maxBatchBytes, ctx.maxBytes - 64 * 1024);
  let read = 0;
  let note = '';
  let session: TcpSession | undefined;
  try {
    session = await TcpSession.open({
      host: target.host,
      port: target.port,
      signal: sampler.signal,
      maxBytes: ctx.maxBytes,
    });
    let start = 0;
    while (start < wanted.length) {
      let end = start;
      let bytes = 0;
      while (
        end < wanted.length &&
        end - start < maxKeysPerGet &&
        (end === start || bytes + (wanted[end]?.size ?? 0) <= cap)
      ) {
        bytes += wanted[end]?.size ?? 0;
        end++;
      }
      const batch = wanted.slice(start, end);
      start = end;
      if (batch.some((w) => w.size > cap)) continue;
      const frame = await session.request(`get ${batch.map((w) => w.key).join(' ')}\r\n`, readGetFrame);
      const familyOf = new Map(batch.map((w) => [w.key, w.family]));
      let from = 0;
      for (;;) {
        const next = firstLine(frame, from);
        const value = next === undefined ? null : /^VALUE (\S+) \d+ (\d+)/.exec(next.line);
        if (next === undefined || value === null) break;
        const length = Number(value[2]);
        // Keys went out as UTF-8 and come back as the same bytes.
        const key = Buffer.from(value[1] ?? '', 'latin1').toString('utf8');
        const family = familyOf.get(key);
        if (family !== undefined) {
          sampler.add(family, { [family]: frame.toString('utf8', next.end, next.end + length) });
          read++;
        }
        from = next.end + length + 2;
      }
    }
  } catch (error) {
    note = sampler.signal.aborted
      ? ' (stopped at the sampling time limit)'
      : ` (stopped early: ${probeFailure(error, { ...ctx, signal: sampler.signal }).detail})`;
  } finally {
    session?.close();
  }
  return `; sampled ${plural(read, 'key')}${note}`;
}

/**
 * memcached over its text protocol. Open when `stats` answers: the text protocol has no login, so
 * an answering server serves every key; a SASL or auth-file server refuses commands with an error.
 */
export const memcachedConnector = {
  defaultPorts: [11211],
  async probe(target: ProbeTarget, ctx: ProbeContext): Promise<ProbeResult> {
    let session: TcpSession | undefined;
    try {
      session = await TcpSession.open({
        host: target.host,
        port: target.port,
        signal: ctx.signal,
        maxBytes: ctx.maxBytes,
      });
      const statsFrame = await session.request('stats\r\n', readStatsFrame);
      const refused = errorOf(statsFrame);
      if (refused !== undefined) {
        // `CLIENT_ERROR unauthenticated` (auth file, -Y) or a binary-only SASL server.
        return /auth/i.test(refused)
          ? { status: 'auth-required', detail: sanitizeText(`memcached refused stats: ${refused}`) }
          : { status: 'error', detail: sanitizeText(`memcached refused stats: ${refused}`) };
      }
      const stats = statsOf(statsFrame);
      const version = stats.get('version');
      const items = Number(stats.get('curr_items'));
      if (version === undefined || !Number.isFinite(items))
        return { status: 'other-protocol', detail: 'stats answer without version or curr_items' };
      const bytes = Number(stats.get('bytes'));
      const sampler = ctx.sampler;
      const keep = sampler === undefined || items === 0 ? 0 : Math.min(sampler.limit, 1_000_000);

      let collections: CollectionInfo[];
      let dump: Metadump | undefined;
      let how: string;
      if (items === 0) {
        collections = [];
        how = '';
      } else {
        dump = await metadump(session, keep);
        if (dump === undefined || dump.lines === 0) {
          const slabs = statsOf(await session.request('stats items\r\n', readStatsFrame));
          collections = slabCollections(slabs);
          how = ' (slab classes: lru_crawler metadump unavailable)';
        } else {
          collections = [...dump.families].map(([name, f]) => ({ name, records: f.count }));
          how =
            dump.complete && !dump.familiesCapped
              ? ' in key families'
              : ` in key families of the first ${dump.lines} keys`;
        }
      }
      const result: ProbeResult = {
        status: 'open',
        detail: `stats answered without authentication; ${plural(items, 'item')}${collections.length > 0 ? ` in ${collections.length} collections${how}` : ''}`,
        server: { product: 'memcached', version: sanitizeText(version, 40) },
        size: {
          collections: collections.length,
          records: items,
          ...(Number.isFinite(bytes) ? { bytes } : {}),
        },
        collections,
      };
      if (items === 0) result.indicators = ['empty'];
      if (sampler !== undefined && dump !== undefined && keep > 0) {
        session.close();
        result.detail += await sampleMemcached(target, ctx, sampler, dump);
      }
      return result;
    } catch (error) {
      return probeFailure(error, ctx);
    } finally {
      session?.close();
    }
  },
} satisfies Connector;
