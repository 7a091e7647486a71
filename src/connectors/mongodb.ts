import { Binary, deserialize, Long, serialize, type Document } from 'bson';
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { LimitError, ProtocolError } from '../core/errors.js';
import { sanitizeText } from '../core/redact.js';
import type { CollectionInfo, Indicator } from '../core/scan-report.js';
import type { Connector, ProbeContext, ProbeResult, ProbeTarget, RecordSink } from './connector.js';
import { probeFailure } from './network-failure.js';
import { TcpSession } from './tcp-session.js';

/*
 * MongoDB over its wire protocol, spoken directly (no driver: it would reconnect, discover the
 * topology and follow advertised hosts). Message layout:
 * https://www.mongodb.com/docs/manual/reference/mongodb-wire-protocol/ (MsgHeader, OP_MSG) and
 * https://www.mongodb.com/docs/manual/legacy-opcodes/ (OP_QUERY, OP_REPLY). Only read commands are
 * sent: hello/isMaster, buildInfo, listDatabases, listCollections, count, dbStats, find, getMore.
 */

const opReply = 1;
const opQuery = 2004;
const opMsg = 2013;
// maxMessageSizeBytes, the largest message a server sends (hello's documented default).
const maxMessageBytes = 48_000_000;
// OP_MSG is understood from wire version 6 (MongoDB 3.6) on.
const opMsgWireVersion = 6;
// SCRAM-SHA-256 is offered from MongoDB 4.0 (wire version 7); older servers know SCRAM-SHA-1 only.
const scramSha256WireVersion = 7;
// Sizing bounds: databases counted per collection, and collections per database.
const maxDatabases = 20;
const maxCollectionsPerDb = 200;
// Documents per find/getMore batch while sampling.
const sampleBatch = 500;
// Databases that hold the server's own state, not the owner's data (listed in the detail only).
const systemDatabases = new Set(['admin', 'local', 'config']);
// Names ransom gangs leave behind after wiping a MongoDB ("README", "READ__ME_TO_RECOVER_YOUR_DATA",
// "WARNING", "meow" bots).
const ransomName = /read_*me|recover|ransom|warning|meow|pwned|hacked/i;

/** One complete wire message: MsgHeader.messageLength, bounded, with a known reply opcode. */
function frameReader(maxBytes: number): (buffer: Buffer) => number | undefined {
  const cap = Math.min(maxBytes, maxMessageBytes);
  return (buffer) => {
    if (buffer.length < 4) return undefined;
    const length = buffer.readInt32LE(0);
    if (length < 16 || length > maxMessageBytes)
      throw new ProtocolError('answer is not a MongoDB wire message');
    // A length MongoDB could send but over our cap: refused before any of it is buffered.
    if (length > cap) throw new LimitError(`mongodb message of ${length} bytes is over the ${cap}-byte cap`);
    if (buffer.length >= 16) {
      const opCode = buffer.readInt32LE(12);
      if (opCode !== opMsg && opCode !== opReply)
        throw new ProtocolError('answer is not a MongoDB wire message');
    }
    return buffer.length >= length ? length : undefined;
  };
}

/** A MongoDB server's `{ok: 0}` answer. */
class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    readonly code: number | undefined,
    readonly codeName: string,
    message: string,
  ) {
    super(message);
  }
}

function commandError(reply: Document): CommandError | undefined {
  if (reply.ok === 1 || reply.ok === true) return undefined;
  const code = typeof reply.code === 'number' ? reply.code : undefined;
  const codeName = typeof reply.codeName === 'string' ? reply.codeName : '';
  const text =
    typeof reply.errmsg === 'string' ? reply.errmsg : typeof reply.$err === 'string' ? reply.$err : '';
  return new CommandError(code, codeName, sanitizeText(text || 'command failed', 120));
}

// Unauthorized (13), AuthenticationFailed (18) (https://www.mongodb.com/docs/manual/reference/error-codes/).
function isAuthError(error: CommandError): boolean {
  return (
    error.code === 13 || error.code === 18 || /requires authentication|not authorized/i.test(error.message)
  );
}

/** One wire conversation; commands go as OP_MSG, or as OP_QUERY on `<db>.$cmd` to old servers. */
class MongoSession {
  private requestId = 0;
  legacy = false;

  private constructor(
    private readonly session: TcpSession,
    private readonly readFrame: (buffer: Buffer) => number | undefined,
  ) {}

  static async open(target: ProbeTarget, signal: AbortSignal, maxBytes: number): Promise<MongoSession> {
    const session = await TcpSession.open({ host: target.host, port: target.port, signal, maxBytes });
    return new MongoSession(session, frameReader(maxBytes));
  }

  private header(length: number, opCode: number): Buffer {
    const out = Buffer.alloc(16);
    this.requestId = (this.requestId + 1) & 0x7fffffff;
    out.writeInt32LE(length, 0);
    out.writeInt32LE(this.requestId, 4);
    out.writeInt32LE(0, 8);
    out.writeInt32LE(opCode, 12);
    return out;
  }

  /** OP_MSG: header, flagBits 0, one kind-0 section holding the command with `$db`. */
  private async opMsg(db: string, command: Document): Promise<Document> {
    const body = serialize({ ...command, $db: db });
    const message = Buffer.concat([this.header(16 + 5 + body.length, opMsg), Buffer.alloc(5), body]);
    const reply = await this.session.request(message, this.readFrame);
    this.checkResponseTo(reply);
    if (reply.readInt32LE(12) !== opMsg)
      throw new ProtocolError('mongodb answered OP_MSG with another opcode');
    const flags = reply.readUInt32LE(16);
    // Bits 0 (checksumPresent) and 1 (moreToCome) are the only ones a server may set here; a
    // kind-0 section comes first in a server's reply.
    if ((flags & ~0x3) !== 0 || reply[20] !== 0) throw new ProtocolError('malformed OP_MSG reply');
    return this.document(reply, 21);
  }

  /** OP_QUERY on `<db>.$cmd` with numberToReturn -1 (one document), answered by OP_REPLY. */
  private async opQuery(db: string, command: Document): Promise<Document> {
    const ns = Buffer.from(`${db}.$cmd\0`, 'utf8');
    const query = serialize(command);
    const fixed = Buffer.alloc(4);
    const skipReturn = Buffer.alloc(8);
    skipReturn.writeInt32LE(-1, 4);
    const length = 16 + 4 + ns.length + 8 + query.length;
    const message = Buffer.concat([this.header(length, opQuery), fixed, ns, skipReturn, query]);
    const reply = await this.session.request(message, this.readFrame);
    this.checkResponseTo(reply);
    // OP_REPLY: responseFlags int32, cursorID int64, startingFrom int32, numberReturned int32, docs.
    if (reply.readInt32LE(12) !== opReply || reply.length < 36)
      throw new ProtocolError('mongodb answered OP_QUERY with another opcode');
    if (reply.readInt32LE(32) < 1) throw new ProtocolError('mongodb OP_REPLY without a document');
    return this.document(reply, 36);
  }

  private checkResponseTo(reply: Buffer): void {
    if (reply.length < 21 || reply.readInt32LE(8) !== this.requestId)
      throw new ProtocolError('mongodb reply does not answer the request');
  }

  private document(reply: Buffer, offset: number): Document {
    if (reply.length < offset + 5) throw new ProtocolError('mongodb reply without a document');
    const size = reply.readInt32LE(offset);
    if (size < 5 || offset + size > reply.length) throw new ProtocolError('malformed BSON in mongodb reply');
    try {
      return deserialize(reply.subarray(offset, offset + size));
    } catch {
      throw new ProtocolError('malformed BSON in mongodb reply');
    }
  }

  /** Runs a read command; `{ok: 0}` is thrown as CommandError. */
  async run(
    db: string,
    command: Document,
    transport: 'msg' | 'query' = this.legacy ? 'query' : 'msg',
  ): Promise<Document> {
    const reply = transport === 'msg' ? await this.opMsg(db, command) : await this.opQuery(db, command);
    const error = commandError(reply);
    if (error !== undefined) throw error;
    return reply;
  }

  close(): void {
    this.session.close();
  }
}

interface Handshake {
  session: MongoSession;
  maxWireVersion: number | undefined;
}

/**
 * `hello` over OP_MSG; a server that drops OP_MSG (before 3.6) or refuses `hello` (before 4.4.2)
 * gets the legacy `isMaster` over OP_QUERY on a fresh connection.
 */
async function handshake(target: ProbeTarget, ctx: ProbeContext): Promise<Handshake> {
  let session = await MongoSession.open(target, ctx.signal, ctx.maxBytes);
  let reply: Document | undefined;
  try {
    reply = await session.run('admin', { hello: 1 }, 'msg');
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    if (ctx.signal.aborted) throw error;
    session.close();
    session = await MongoSession.open(target, ctx.signal, ctx.maxBytes);
  }
  if (reply === undefined) {
    // Before the legacy reply is trusted, anything but OP_REPLY is not MongoDB.
    try {
      reply = await session.run('admin', { isMaster: 1 }, 'query');
    } catch (error) {
      session.close();
      if (error instanceof CommandError) throw new ProtocolError('answered isMaster without ok');
      throw error;
    }
  }
  const wire: unknown = reply.maxWireVersion;
  const maxWireVersion = typeof wire === 'number' ? wire : undefined;
  if (reply.ismaster === undefined && reply.isWritablePrimary === undefined && maxWireVersion === undefined) {
    session.close();
    throw new ProtocolError('answered hello without hello fields');
  }
  session.legacy = (maxWireVersion ?? 0) < opMsgWireVersion;
  return { session, maxWireVersion };
}

function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (value instanceof Long) return value.toNumber();
  return undefined;
}

interface DatabaseEntry {
  name: string;
  sizeOnDisk: number | undefined;
}

function databasesOf(reply: Document): DatabaseEntry[] | undefined {
  const list: unknown = reply.databases;
  if (!Array.isArray(list)) return undefined;
  const out: DatabaseEntry[] = [];
  for (const entry of list as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const record = entry as Document;
    if (typeof record.name !== 'string') continue;
    out.push({ name: record.name, sizeOnDisk: numberOf(record.sizeOnDisk) });
  }
  return out;
}

/** listCollections' first batch (a cursor since 3.0): collections only, not views or system.*. */
async function collectionsOf(session: MongoSession, db: string): Promise<{ names: string[]; more: boolean }> {
  const reply = await session.run(db, { listCollections: 1, cursor: {} });
  const cursor = reply.cursor as Document | undefined;
  const batch: unknown = cursor?.firstBatch;
  const names: string[] = [];
  if (Array.isArray(batch)) {
    for (const info of batch as unknown[]) {
      if (typeof info !== 'object' || info === null) continue;
      const { name, type } = info as Document;
      if (typeof name !== 'string' || name.startsWith('system.')) continue;
      if (type !== undefined && type !== 'collection') continue;
      names.push(name);
    }
  }
  const id = numberOf(cursor?.id);
  return { names, more: id !== undefined && id !== 0 };
}

/*
 * SCRAM (RFC 5802; SHA-256 per RFC 7677) over saslStart/saslContinue, as MongoDB's driver
 * authentication specification describes it
 * (https://github.com/mongodb/specifications/blob/master/source/auth/auth.md#scram-sha-256,
 * https://www.mongodb.com/docs/manual/core/security-scram/). SCRAM-SHA-1 (servers before 4.0)
 * hashes the password as hex(md5("user:mongo:password")) first.
 */
const pbkdf2Async = promisify(pbkdf2);
// RFC 7677 asks for at least 4096 iterations; a hostile server asking for billions must not pin a CPU.
const maxScramIterations = 1_000_000;

class AuthFailure extends Error {
  override readonly name = 'AuthFailure';
}

function saslName(user: string): string {
  return user.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

function scramFields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq === 1) out.set(part.slice(0, 1), part.slice(2));
  }
  return out;
}

function payloadText(reply: Document): string {
  const payload: unknown = reply.payload;
  if (payload instanceof Binary) return Buffer.from(payload.buffer).toString('utf8');
  throw new ProtocolError('mongodb SASL reply without a payload');
}

async function authenticate(session: MongoSession, target: ProbeTarget, sha256: boolean): Promise<void> {
  const user = target.username ?? '';
  const source = target.path !== undefined && /^[^/\\. "$]{1,64}$/.test(target.path) ? target.path : 'admin';
  const hash = sha256 ? 'sha256' : 'sha1';
  const hashBytes = sha256 ? 32 : 20;
  const secret = sha256
    ? (target.password ?? '').normalize('NFKC')
    : createHash('md5')
        .update(`${user}:mongo:${target.password ?? ''}`)
        .digest('hex');
  const nonce = randomBytes(24).toString('base64');
  const firstBare = `n=${saslName(user)},r=${nonce}`;
  const start = await session.run(source, {
    saslStart: 1,
    mechanism: sha256 ? 'SCRAM-SHA-256' : 'SCRAM-SHA-1',
    payload: new Binary(Buffer.from(`n,,${firstBare}`, 'utf8')),
    autoAuthorize: 1,
    options: { skipEmptyExchange: true },
  });
  const serverFirst = payloadText(start);
  const fields = scramFields(serverFirst);
  const serverNonce = fields.get('r') ?? '';
  const salt = Buffer.from(fields.get('s') ?? '', 'base64');
  const iterations = Number(fields.get('i'));
  if (!serverNonce.startsWith(nonce) || serverNonce === nonce || salt.length === 0)
    throw new ProtocolError('mongodb SCRAM: malformed server-first message');
  if (!Number.isInteger(iterations) || iterations < 4096 || iterations > maxScramIterations)
    throw new ProtocolError('mongodb SCRAM: iteration count out of bounds');
  const salted = await pbkdf2Async(secret, salt, iterations, hashBytes, hash);
  const hmac = (key: Buffer, text: string): Buffer => createHmac(hash, key).update(text).digest();
  const clientKey = hmac(salted, 'Client Key');
  const storedKey = createHash(hash).update(clientKey).digest();
  const finalWithoutProof = `c=biws,r=${serverNonce}`;
  const authMessage = `${firstBare},${serverFirst},${finalWithoutProof}`;
  const signature = hmac(storedKey, authMessage);
  const proof = Buffer.from(clientKey.map((byte, i) => byte ^ (signature[i] ?? 0)));
  const final = await session.run(source, {
    saslContinue: 1,
    conversationId: start.conversationId as unknown,
    payload: new Binary(Buffer.from(`${finalWithoutProof},p=${proof.toString('base64')}`, 'utf8')),
  });
  // The server proves it knew the password too (v=ServerSignature); otherwise it is not trusted.
  const expected = hmac(hmac(salted, 'Server Key'), authMessage);
  const verifier = Buffer.from(scramFields(payloadText(final)).get('v') ?? '', 'base64');
  if (verifier.length !== expected.length || !timingSafeEqual(verifier, expected))
    throw new AuthFailure('the server did not prove it knows the password');
  if (final.done !== true) {
    const last = await session.run(source, {
      saslContinue: 1,
      conversationId: start.conversationId as unknown,
      payload: new Binary(Buffer.alloc(0)),
    });
    if (last.done !== true) throw new ProtocolError('mongodb SCRAM conversation did not finish');
  }
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * A BSON document as a plain JSON-like record: ObjectId as hex, dates as ISO text, Decimal128 and
 * 64-bit integers as text; binary data and the rarer BSON types are left out (nothing to classify).
 */
function plainValue(value: unknown, depth = 0): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  if (Array.isArray(value)) {
    if (depth > 50) return undefined;
    return value.map((v) => plainValue(v, depth + 1)).filter((v) => v !== undefined);
  }
  if (typeof value !== 'object') return undefined;
  if (value instanceof Binary) return undefined;
  const bsonType = (value as { _bsontype?: unknown })._bsontype;
  if (bsonType === 'ObjectId' || bsonType === 'ObjectID')
    return (value as { toHexString(): string }).toHexString();
  if (bsonType === 'Decimal128' || bsonType === 'Long' || bsonType === 'Int32' || bsonType === 'Double')
    return (value as { toString(): string }).toString();
  if (bsonType !== undefined || depth > 50) return undefined;
  // Field names are the target's: a null-prototype object keeps `__proto__` an ordinary key.
  const out = Object.create(null) as Record<string, unknown>;
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    const plain = plainValue(inner, depth + 1);
    if (plain !== undefined) out[key] = plain;
  }
  return out;
}

function batchOf(reply: Document, field: 'firstBatch' | 'nextBatch'): { docs: unknown[]; id: Long | number } {
  const cursor = reply.cursor as Document | undefined;
  const docs: unknown = cursor?.[field];
  const id: unknown = cursor?.id;
  return {
    docs: Array.isArray(docs) ? docs : [],
    id: id instanceof Long || typeof id === 'number' ? id : 0,
  };
}

/** `find` with a limit (or to the end by getMore under `--full`) per collection, on its own socket. */
async function sampleMongo(
  target: ProbeTarget,
  ctx: ProbeContext,
  sampler: RecordSink,
  legacy: boolean,
  collections: readonly { db: string; name: string }[],
  /** Set when the probe authenticated: the SCRAM variant to log the sampling connection in with. */
  scramSha256: boolean | undefined,
): Promise<string> {
  let session: MongoSession | undefined;
  let documents = 0;
  let sampled = 0;
  const notes: string[] = [];
  const bounded = Number.isFinite(sampler.limit);
  try {
    for (const { db, name } of collections) {
      if (session === undefined) {
        session = await MongoSession.open(target, sampler.signal, ctx.maxBytes);
        session.legacy = legacy;
        if (scramSha256 !== undefined) await authenticate(session, target, scramSha256);
      }
      const collection = `${db}.${name}`;
      let taken = 0;
      try {
        const first = Math.min(bounded ? sampler.limit : sampleBatch, sampleBatch);
        let reply = await session.run(db, {
          find: name,
          ...(bounded ? { limit: sampler.limit } : {}),
          batchSize: first,
        });
        let batch = batchOf(reply, 'firstBatch');
        for (;;) {
          for (const doc of batch.docs) {
            if (bounded && taken >= sampler.limit) break;
            const record = plainValue(doc);
            if (record === undefined) continue;
            sampler.add(collection, record);
            taken++;
          }
          const id = batch.id;
          const open = id instanceof Long ? !id.isZero() : id !== 0;
          if (!open || (bounded && taken >= sampler.limit)) {
            // A cursor left open by a limit the server did not apply times out on its own (10 min);
            // killCursors is no write, but one more round trip buys nothing.
            break;
          }
          reply = await session.run(db, {
            getMore: id instanceof Long ? id : Long.fromNumber(id),
            collection: name,
            batchSize: sampleBatch,
          });
          batch = batchOf(reply, 'nextBatch');
        }
      } catch (error) {
        if (!(error instanceof CommandError)) {
          // The connection is unusable after a cap or a broken reply: the next collection gets a new one.
          session.close();
          session = undefined;
          if (sampler.signal.aborted) throw error;
        }
        notes.push(`${sanitizeText(collection, 60)} not fully read`);
      }
      documents += taken;
      if (taken > 0) sampled++;
    }
  } catch (error) {
    notes.push(
      sampler.signal.aborted
        ? 'stopped at the sampling time limit'
        : `stopped early: ${probeFailure(error, { ...ctx, signal: sampler.signal }).detail}`,
    );
  } finally {
    session?.close();
  }
  const extra = notes.length > 0 ? ` (${notes.slice(0, 3).join('; ')}${notes.length > 3 ? '; …' : ''})` : '';
  return `; sampled ${plural(documents, 'document')} in ${plural(sampled, 'collection')}${extra}`;
}

/**
 * MongoDB: `hello` (or legacy `isMaster`), `buildInfo` for the version, then `listDatabases`. Open
 * only when an anonymous client gets a non-empty database list: access control answers
 * Unauthorized (code 13), and a user without the listDatabases privilege gets an empty list.
 */
export const mongodbConnector = {
  defaultPorts: [27017],
  async probe(target: ProbeTarget, ctx: ProbeContext): Promise<ProbeResult> {
    let session: MongoSession | undefined;
    try {
      const hello = await handshake(target, ctx);
      session = hello.session;
      let version: string | undefined;
      try {
        const build = await session.run('admin', { buildInfo: 1 });
        if (typeof build.version === 'string') version = sanitizeText(build.version, 40);
      } catch (error) {
        if (!(error instanceof CommandError)) throw error;
      }
      const server = version === undefined ? { product: 'mongodb' } : { product: 'mongodb', version };
      const wire = hello.maxWireVersion === undefined ? '' : ` (wire version ${hello.maxWireVersion})`;
      const named = target.username !== undefined && target.password !== undefined;
      const sha256 = (hello.maxWireVersion ?? 0) >= scramSha256WireVersion;
      if (named) {
        try {
          await authenticate(session, target, sha256);
        } catch (error) {
          if (error instanceof AuthFailure)
            return { status: 'error', detail: `mongodb SCRAM: ${error.message}`, server };
          if (!(error instanceof CommandError)) throw error;
          // The server's message is not echoed: it may repeat the user name.
          return {
            status: 'auth-required',
            detail: `mongodb${wire} rejected the credentials named in the target (${sanitizeText(error.codeName, 40) || 'authentication failed'})`,
            server,
          };
        }
      }
      const how = named ? 'with the credentials named in the target' : 'without authentication';
      let list: DatabaseEntry[] | undefined;
      try {
        list = databasesOf(await session.run('admin', { listDatabases: 1, nameOnly: false }));
      } catch (error) {
        if (!(error instanceof CommandError)) throw error;
        if (isAuthError(error))
          return {
            status: 'auth-required',
            detail: `mongodb${wire} refuses listDatabases ${named ? 'to the named user' : 'without authentication'} (${error.codeName || error.message})`,
            server,
          };
        return { status: 'error', detail: `mongodb listDatabases failed: ${error.message}`, server };
      }
      if (list === undefined)
        return { status: 'error', detail: 'mongodb listDatabases answered no list', server };
      if (list.length === 0)
        return {
          status: 'auth-required',
          detail: `mongodb${wire} answers listDatabases with an empty list: access control hides the databases`,
          server,
        };

      const userDbs = list.filter((d) => !systemDatabases.has(d.name));
      const systemCount = list.length - userDbs.length;
      const collections: CollectionInfo[] = [];
      const toSample: { db: string; name: string }[] = [];
      let approximate = userDbs.length > maxDatabases;
      let bytes = 0;
      let bytesKnown = true;
      for (const db of userDbs.slice(0, maxDatabases)) {
        let size = db.sizeOnDisk;
        if (size === undefined) {
          // Servers that leave sizeOnDisk out still answer dbStats (storageSize, bytes on disk).
          try {
            size = numberOf((await session.run(db.name, { dbStats: 1 })).storageSize);
          } catch (error) {
            if (!(error instanceof CommandError)) throw error;
          }
        }
        if (size === undefined) bytesKnown = false;
        else bytes += size;
        let names: string[];
        try {
          const listed = await collectionsOf(session, db.name);
          names = listed.names;
          if (listed.more || names.length > maxCollectionsPerDb) approximate = true;
        } catch (error) {
          if (!(error instanceof CommandError)) throw error;
          if (isAuthError(error)) approximate = true;
          continue;
        }
        for (const name of names.slice(0, maxCollectionsPerDb)) {
          try {
            const n = numberOf((await session.run(db.name, { count: name })).n);
            collections.push(
              n === undefined ? { name: `${db.name}.${name}` } : { name: `${db.name}.${name}`, records: n },
            );
            if (n === undefined) approximate = true;
            else if (n > 0) toSample.push({ db: db.name, name });
          } catch (error) {
            if (!(error instanceof CommandError)) throw error;
            collections.push({ name: `${db.name}.${name}` });
            approximate = true;
          }
        }
      }
      for (const db of userDbs.slice(maxDatabases)) {
        if (db.sizeOnDisk !== undefined) bytes += db.sizeOnDisk;
        else bytesKnown = false;
      }
      const records = collections.reduce((sum, c) => sum + (c.records ?? 0), 0);
      const system = systemCount > 0 ? `, plus ${plural(systemCount, 'system database')} not counted` : '';
      const result: ProbeResult = {
        status: 'open',
        detail:
          `listDatabases answered ${how}${wire}: ${plural(userDbs.length, 'database')}, ` +
          `${plural(collections.length, 'collection')}, ${plural(records, 'document')}${system}` +
          (approximate
            ? ` (counted the first ${maxDatabases} databases × ${maxCollectionsPerDb} collections)`
            : ''),
        server,
        size: {
          collections: collections.length,
          records,
          ...(bytesKnown ? { bytes } : {}),
          ...(approximate ? { approximate: true } : {}),
        },
        collections,
      };
      const indicators: Indicator[] = [];
      if (records === 0) indicators.push('empty');
      if (
        records <= 10 &&
        (userDbs.some((d) => ransomName.test(d.name)) || collections.some((c) => ransomName.test(c.name)))
      )
        indicators.push('ransom-note');
      if (indicators.length > 0) result.indicators = indicators;
      const sampler = ctx.sampler;
      if (sampler !== undefined && sampler.limit > 0 && toSample.length > 0) {
        // Sampling has its own deadline: the probe's connection (on ctx.signal) is not reused.
        session.close();
        session = undefined;
        result.detail += await sampleMongo(
          target,
          ctx,
          sampler,
          hello.session.legacy,
          toSample,
          named ? sha256 : undefined,
        );
      }
      return result;
    } catch (error) {
      return probeFailure(error, ctx);
    } finally {
      session?.close();
    }
  },
} satisfies Connector;
