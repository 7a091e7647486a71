import { LimitError } from '../core/errors.js';
import { sanitizeText } from '../core/redact.js';
import type { CollectionInfo } from '../core/scan-report.js';
import type { Connector, ProbeContext, ProbeResult, ProbeTarget, RecordSink } from './connector.js';
import { keyFamily } from './key-family.js';
import { probeFailure } from './network-failure.js';
import { decodeResp, encodeCommand, parseInfo, readRespFrame, RespError, type RespValue } from './resp.js';
import { TcpSession } from './tcp-session.js';

async function command(session: TcpSession, ...args: string[]): Promise<RespValue> {
  const frame = await session.request(encodeCommand(...args), readRespFrame);
  const decoded = decodeResp(frame);
  return decoded === undefined ? null : decoded[0];
}

function authVerdict(error: RespError): ProbeResult | undefined {
  const text = error.message;
  if (text.startsWith('NOAUTH') || text.startsWith('WRONGPASS') || text.includes('Authentication required')) {
    return { status: 'auth-required', detail: sanitizeText(`redis requires a password (${text})`) };
  }
  if (text.startsWith('DENIED')) {
    // Protected mode: no password, but the server refuses non-local clients. Not open to us.
    return { status: 'auth-required', detail: 'redis protected mode refuses remote clients' };
  }
  if (text.startsWith('NOPERM'))
    return { status: 'auth-required', detail: sanitizeText(`redis ACL: ${text}`) };
  return undefined;
}

// `db0:keys=10,expires=0,avg_ttl=0` (INFO keyspace, https://redis.io/docs/latest/commands/info/).
function keyspaceCollections(info: Map<string, string>): CollectionInfo[] {
  const collections: CollectionInfo[] = [];
  for (const [name, value] of info) {
    if (!/^db\d+$/.test(name)) continue;
    const keys = /(?:^|,)keys=(\d+)/.exec(value)?.[1];
    if (keys !== undefined) collections.push({ name, records: Number(keys) });
  }
  return collections;
}

// Sampling bounds. SCAN's COUNT is a hint of buckets visited per call
// (https://redis.io/docs/latest/commands/scan/#the-count-option); 1000 keeps each call short on the
// server while needing few round trips.
const scanCount = '1000';
// A string value past this is not read (STRLEN first): a 512 MB blob is not a record to classify.
const maxStringBytes = 1024 * 1024;
// With a finite sample, a database is scanned this far at most: families met later stay unread.
const maxScannedKeysPerDb = 100_000;
const maxScanCallsPerDb = 1_000;
// Family counters live in memory for the whole run; a keyspace of random names must not grow them.
const maxFamilies = 10_000;
// Hashes this small are read whole (HGETALL); larger ones one HSCAN page.
const maxHashFieldsWhole = 1_000;
// Elements read from one list, set, sorted set or stream.
const maxElements = 100;
// Replies over the byte cap end a connection; after this many reconnects sampling stops.
const maxReconnects = 10;
// Pipelined string reads per batch stay under this many bytes, so the server never queues more.
const maxBatchBytes = 4 * 1024 * 1024;

type Command = string[];

interface RedisAuth {
  username: string | undefined;
  password: string;
}

/**
 * The sampling connection: its own socket on the sampler's deadline (a `--full` read outlasts the
 * probe timeout), pipelined batches, and a reconnect when one reply is over the byte cap.
 */
class RedisReader {
  private session: TcpSession | undefined;
  private db = 0;
  private reconnects = 0;

  constructor(
    private readonly target: ProbeTarget,
    private readonly maxBytes: number,
    private readonly signal: AbortSignal,
    private readonly auth: RedisAuth | undefined,
  ) {}

  /** Switches to `db`; false when the server refuses it (cluster mode, a db INFO made up). */
  async select(db: number): Promise<boolean> {
    if (this.session === undefined) await this.connect();
    const reply = await command(this.session as TcpSession, 'SELECT', String(db));
    if (reply instanceof RespError) return false;
    this.db = db;
    return true;
  }

  private async connect(): Promise<void> {
    this.session?.close();
    this.session = await TcpSession.open({
      host: this.target.host,
      port: this.target.port,
      signal: this.signal,
      maxBytes: this.maxBytes,
    });
    if (this.auth !== undefined) {
      await this.expectOk(
        this.auth.username === undefined
          ? ['AUTH', this.auth.password]
          : ['AUTH', this.auth.username, this.auth.password],
      );
    }
    if (this.db !== 0) await this.expectOk(['SELECT', String(this.db)]);
  }

  private async expectOk(args: Command): Promise<void> {
    const session = this.session;
    if (session === undefined) throw new Error('redis sampling connection is closed');
    const reply = await command(session, ...args);
    // The server's message may echo the command (and so a password): only its first word is kept.
    if (reply instanceof RespError)
      throw new Error(
        `redis answered ${args[0] ?? ''} with ${sanitizeText(reply.message.split(' ')[0] ?? '', 30)}`,
      );
  }

  /**
   * Sends `commands` in one write and hands each reply, in order, to `onReply`. A reply over the byte
   * cap ends the connection: it is reported as `undefined`, and the rest are sent again on a new one.
   */
  async pipeline(
    commands: readonly Command[],
    onReply: (index: number, reply: RespValue | undefined) => void,
  ): Promise<void> {
    let index = 0;
    while (index < commands.length) {
      const session = this.session;
      if (session === undefined) throw new Error('redis sampling connection is closed');
      let send: string | undefined = commands
        .slice(index)
        .map((args) => encodeCommand(...args))
        .join('');
      for (; index < commands.length; index++) {
        let frame: Buffer;
        try {
          frame = await session.request(send, readRespFrame);
        } catch (error) {
          if (!(error instanceof LimitError) || this.reconnects >= maxReconnects) throw error;
          this.reconnects++;
          onReply(index++, undefined);
          await this.connect();
          break;
        }
        send = undefined;
        onReply(index, decodeResp(frame)?.[0] ?? null);
      }
    }
  }

  close(): void {
    this.session?.close();
    this.session = undefined;
  }
}

/** How one key is read, chosen from its TYPE (and STRLEN or HLEN). */
type ReadKind = 'get' | 'hgetall' | 'hscan' | 'lrange' | 'sscan' | 'zrange' | 'xrange';

interface WantedKey {
  key: string;
  family: string;
  /** `db<n>/<family>`: the same family in two databases is two collections. */
  collection: string;
}

interface Tally {
  keys: number;
  skipped: number;
  /** Keys taken per collection (reserved before the read, released when it yields nothing). */
  taken: Map<string, number>;
  familiesCapped: boolean;
}

function strings(value: RespValue | undefined): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

// Field names are the target's: a null-prototype object keeps `__proto__` an ordinary key.
function bareObject(): Record<string, unknown> {
  return Object.create(null) as Record<string, unknown>;
}

/** `[field, value, …]` as an object; field names pass through keyFamily too (`sessions#*`). */
function fieldsOf(flat: readonly string[], prefix: string): Record<string, unknown> {
  const record = bareObject();
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const field = keyFamily(flat[i] ?? '');
    const path = `${prefix}${field}`;
    const value = flat[i + 1];
    // A variable field name (a user id as the field) always gives an array, so the path is the
    // same in every record (`sessions#*[]`) however many fields it holds.
    if (!field.includes('*')) record[path] = value;
    else {
      const list = record[path];
      if (Array.isArray(list)) list.push(value);
      else record[path] = [value];
    }
  }
  return record;
}

/**
 * One record per key, its paths in DESIGN.md's grammar: a string is `{family: value}` (JSON inside
 * is the classifier's to parse), a hash `{family#field: value}`, a list or set `{family: [...]}`.
 */
function recordOf(kind: ReadKind, family: string, reply: RespValue): unknown {
  switch (kind) {
    case 'get':
      return typeof reply === 'string' ? { [family]: reply } : undefined;
    case 'hgetall':
      return Array.isArray(reply) ? fieldsOf(strings(reply), `${family}#`) : undefined;
    case 'hscan':
      return Array.isArray(reply) ? fieldsOf(strings(reply[1]), `${family}#`) : undefined;
    case 'lrange':
      return Array.isArray(reply) ? { [family]: strings(reply) } : undefined;
    case 'sscan':
      return Array.isArray(reply) ? { [family]: strings(reply[1]) } : undefined;
    case 'zrange': {
      const flat = strings(reply);
      const members: { member: string; score: number }[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2)
        members.push({ member: flat[i] ?? '', score: Number(flat[i + 1]) });
      return { [family]: members };
    }
    case 'xrange': {
      // XRANGE: [[id, [field, value, …]], …] (https://redis.io/docs/latest/commands/xrange/).
      if (!Array.isArray(reply)) return undefined;
      const entries = reply.map((entry) =>
        Array.isArray(entry) ? fieldsOf(strings(entry[1]), '') : bareObject(),
      );
      return { [family]: entries };
    }
  }
}

function release(tally: Tally, wanted: WantedKey): void {
  tally.skipped++;
  tally.taken.set(wanted.collection, (tally.taken.get(wanted.collection) ?? 1) - 1);
}

/** The keys of one SCAN page still wanted: at most `limit` per family, reserved at once. */
function pickKeys(keys: readonly string[], db: number, limit: number, tally: Tally): WantedKey[] {
  const wanted: WantedKey[] = [];
  for (const key of keys) {
    const family = keyFamily(key);
    const collection = `db${db}/${family}`;
    const taken = tally.taken.get(collection);
    if (taken === undefined && tally.taken.size >= maxFamilies) {
      tally.familiesCapped = true;
      continue;
    }
    if ((taken ?? 0) >= limit) continue;
    tally.taken.set(collection, (taken ?? 0) + 1);
    wanted.push({ key, family, collection });
  }
  return wanted;
}

/** TYPE, then STRLEN/HLEN, then the typed bounded reads, each as one pipelined batch. */
async function readKeys(
  reader: RedisReader,
  wanted: readonly WantedKey[],
  sampler: RecordSink,
  tally: Tally,
  maxString: number,
): Promise<void> {
  const types = wanted.map(() => 'none');
  await reader.pipeline(
    wanted.map((w) => ['TYPE', w.key]),
    (i, reply) => {
      if (typeof reply === 'string') types[i] = reply;
    },
  );
  const sizes = wanted.map(() => -1);
  const sizeOwners: number[] = [];
  const sizeCommands: Command[] = [];
  types.forEach((type, i) => {
    const key = (wanted[i] as WantedKey).key;
    if (type === 'string' || type === 'hash') {
      sizeOwners.push(i);
      sizeCommands.push([type === 'string' ? 'STRLEN' : 'HLEN', key]);
    }
  });
  await reader.pipeline(sizeCommands, (j, reply) => {
    const owner = sizeOwners[j];
    if (owner !== undefined && typeof reply === 'number') sizes[owner] = reply;
  });

  const plans: { wanted: WantedKey; kind: ReadKind; command: Command; bytes: number }[] = [];
  wanted.forEach((w, i) => {
    const size = sizes[i] ?? -1;
    const plan = (kind: ReadKind, ...args: string[]): void => {
      plans.push({ wanted: w, kind, command: args, bytes: kind === 'get' ? size : 0 });
    };
    switch (types[i] ?? 'none') {
      case 'string':
        if (size >= 0 && size <= maxString) plan('get', 'GET', w.key);
        else release(tally, w);
        break;
      case 'hash':
        if (size < 0) release(tally, w);
        else if (size <= maxHashFieldsWhole) plan('hgetall', 'HGETALL', w.key);
        else plan('hscan', 'HSCAN', w.key, '0', 'COUNT', String(maxHashFieldsWhole));
        break;
      case 'list':
        plan('lrange', 'LRANGE', w.key, '0', String(maxElements - 1));
        break;
      case 'set':
        plan('sscan', 'SSCAN', w.key, '0', 'COUNT', String(maxElements));
        break;
      case 'zset':
        plan('zrange', 'ZRANGE', w.key, '0', String(maxElements - 1), 'WITHSCORES');
        break;
      case 'stream':
        plan('xrange', 'XRANGE', w.key, '-', '+', 'COUNT', String(maxElements));
        break;
      default:
        // Gone since SCAN ("none"), or a module type (ReJSON-RL, TSDB-TYPE) with its own commands.
        release(tally, w);
    }
  });

  let start = 0;
  while (start < plans.length) {
    let end = start;
    let bytes = 0;
    while (end < plans.length && (end === start || bytes + (plans[end]?.bytes ?? 0) <= maxBatchBytes)) {
      bytes += plans[end]?.bytes ?? 0;
      end++;
    }
    const batch = plans.slice(start, end);
    await reader.pipeline(
      batch.map((p) => p.command),
      (j, reply) => {
        const plan = batch[j];
        if (plan === undefined) return;
        const record =
          reply === undefined || reply === null || reply instanceof RespError
            ? undefined
            : recordOf(plan.kind, plan.wanted.family, reply);
        if (record === undefined) {
          release(tally, plan.wanted);
          return;
        }
        tally.keys++;
        sampler.add(plan.wanted.collection, record);
      },
    );
    start = end;
  }
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * Reads up to `sampler.limit` keys per family of every database that has keys: SCAN (never KEYS),
 * TYPE, then one bounded read per type. Returns the detail's sampling note: counts only, no values.
 */
async function sampleRedis(
  target: ProbeTarget,
  ctx: ProbeContext,
  sampler: RecordSink,
  dbs: readonly number[],
  auth: RedisAuth | undefined,
): Promise<string> {
  const reader = new RedisReader(target, ctx.maxBytes, sampler.signal, auth);
  const tally: Tally = { keys: 0, skipped: 0, taken: new Map(), familiesCapped: false };
  const notes: string[] = [];
  const bounded = Number.isFinite(sampler.limit);
  let refused = 0;
  // Room for the reply's header inside the byte cap.
  const maxString = Math.min(maxStringBytes, ctx.maxBytes - 1024);
  try {
    for (const db of dbs) {
      if (!(await reader.select(db))) {
        refused++;
        continue;
      }
      let cursor = '0';
      let scanned = 0;
      let calls = 0;
      do {
        let next: string | undefined;
        let keys: string[] = [];
        await reader.pipeline([['SCAN', cursor, 'COUNT', scanCount]], (_, reply) => {
          if (Array.isArray(reply) && typeof reply[0] === 'string' && Array.isArray(reply[1])) {
            next = reply[0];
            keys = strings(reply[1]);
          }
        });
        if (next === undefined || !/^\d{1,20}$/.test(next)) {
          notes.push(`SCAN of db${db} gave no cursor`);
          break;
        }
        cursor = next;
        scanned += keys.length;
        calls++;
        const wanted = pickKeys(keys, db, sampler.limit, tally);
        if (wanted.length > 0) await readKeys(reader, wanted, sampler, tally, maxString);
        if (bounded && cursor !== '0' && (scanned >= maxScannedKeysPerDb || calls >= maxScanCallsPerDb)) {
          notes.push(`db${db} scanned for its first ${scanned} keys`);
          break;
        }
      } while (cursor !== '0');
    }
  } catch (error) {
    notes.push(
      sampler.signal.aborted
        ? 'stopped at the sampling time limit'
        : `stopped early: ${probeFailure(error, { ...ctx, signal: sampler.signal }).detail}`,
    );
  } finally {
    reader.close();
  }
  if (refused > 0) notes.push(`${plural(refused, 'database')} refused SELECT`);
  if (tally.familiesCapped) notes.push(`families beyond ${maxFamilies} not read`);
  if (tally.skipped > 0) notes.push(`${tally.skipped} skipped: too large, a module type, or gone`);
  const families = [...tally.taken.values()].filter((n) => n > 0).length;
  const extra = notes.length > 0 ? ` (${notes.join('; ')})` : '';
  return `; sampled ${plural(tally.keys, 'key')} in ${plural(families, 'family', 'families')}${extra}`;
}

/**
 * Redis over raw RESP (DESIGN.md: no driver, so no `CLIENT SETINFO`, no reconnects). Open when
 * PING and INFO answer without NOAUTH; protected mode and ACL denials are not open.
 */
export const redisConnector = {
  defaultPorts: [6379],
  async probe(target: ProbeTarget, ctx: ProbeContext): Promise<ProbeResult> {
    let session: TcpSession | undefined;
    try {
      session = await TcpSession.open({
        host: target.host,
        port: target.port,
        signal: ctx.signal,
        maxBytes: ctx.maxBytes,
      });
      let passwordNeeded = false;
      if (target.password !== undefined) {
        const auth =
          target.username === undefined
            ? await command(session, 'AUTH', target.password)
            : await command(session, 'AUTH', target.username, target.password);
        // A server with no password answers AUTH with "ERR AUTH <password> called without any
        // password configured": it is open, and the named password was simply not needed.
        passwordNeeded = !(
          auth instanceof RespError && auth.message.includes('without any password configured')
        );
        if (auth instanceof RespError && passwordNeeded) {
          return (
            authVerdict(auth) ?? { status: 'auth-required', detail: 'redis rejected the given credentials' }
          );
        }
      }
      const pong = await command(session, 'PING');
      if (pong instanceof RespError) {
        return (
          authVerdict(pong) ?? { status: 'error', detail: sanitizeText(`redis PING failed: ${pong.message}`) }
        );
      }
      if (pong !== 'PONG') return { status: 'other-protocol', detail: 'answered PING without PONG' };
      const info = await command(session, 'INFO');
      if (info instanceof RespError) {
        return (
          authVerdict(info) ?? { status: 'error', detail: sanitizeText(`redis INFO failed: ${info.message}`) }
        );
      }
      const fields = parseInfo(typeof info === 'string' ? info : '');
      const collections = keyspaceCollections(fields);
      const records = collections.reduce((sum, c) => sum + (c.records ?? 0), 0);
      const usedMemory = Number(fields.get('used_memory'));
      const version = fields.get('redis_version');
      const product = fields.has('valkey_version') ? 'valkey' : 'redis';
      const result: ProbeResult = {
        status: 'open',
        detail: `PING and INFO answered ${passwordNeeded ? 'with the credentials named in the target' : 'without authentication'}; ${records} keys in ${collections.length} databases`,
        server: version === undefined ? { product } : { product, version: sanitizeText(version, 40) },
        size: {
          collections: collections.length,
          records,
          ...(Number.isFinite(usedMemory) ? { bytes: usedMemory } : {}),
        },
        collections,
      };
      if (records === 0) result.indicators = ['empty'];
      const sampler = ctx.sampler;
      if (sampler !== undefined && records > 0 && sampler.limit > 0) {
        // Sampling has its own deadline: the probe's connection (on ctx.signal) is not reused.
        session.close();
        const dbs = collections.filter((c) => (c.records ?? 0) > 0).map((c) => Number(c.name.slice(2)));
        const auth =
          passwordNeeded && target.password !== undefined
            ? { username: target.username, password: target.password }
            : undefined;
        result.detail += await sampleRedis(target, ctx, sampler, dbs, auth);
      }
      return result;
    } catch (error) {
      return probeFailure(error, ctx);
    } finally {
      session?.close();
    }
  },
} satisfies Connector;
