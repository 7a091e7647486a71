/**
 * A PROTOCOL-FAITHFUL FAKE MongoDB, not the real thing: no MongoDB server can be installed on this
 * machine (it is not in Debian), so the connector is tested against this small node:net server
 * that speaks the MongoDB wire protocol as MongoDB documents it, with BSON from the `bson` package.
 *
 * References (MongoDB Manual):
 * - Wire protocol (MsgHeader, OP_MSG 2013 with kind-0/kind-1 sections and the optional CRC-32C,
 *   legacy OP_QUERY 2004 answered by OP_REPLY 1):
 *   https://www.mongodb.com/docs/manual/reference/mongodb-wire-protocol/
 *   https://www.mongodb.com/docs/manual/legacy-opcodes/
 *   Servers before 3.6 know no OP_MSG (they close the connection on an unknown opcode); servers
 *   5.1+ answer OP_QUERY only for `hello`/`isMaster` on `admin.$cmd`.
 * - hello / isMaster: https://www.mongodb.com/docs/manual/reference/command/hello/
 * - buildInfo:        https://www.mongodb.com/docs/manual/reference/command/buildInfo/
 * - listDatabases:    https://www.mongodb.com/docs/manual/reference/command/listDatabases/
 * - listCollections:  https://www.mongodb.com/docs/manual/reference/command/listCollections/
 * - dbStats:          https://www.mongodb.com/docs/manual/reference/command/dbStats/
 * - count:            https://www.mongodb.com/docs/manual/reference/command/count/
 * - find / getMore:   https://www.mongodb.com/docs/manual/reference/command/find/ and .../getMore/
 * - errors: `{ok: 0, errmsg, code, codeName}`, Unauthorized is code 13
 *   (https://www.mongodb.com/docs/manual/reference/error-codes/).
 * - SCRAM-SHA-256 / SCRAM-SHA-1 over saslStart/saslContinue (RFC 5802, RFC 7677; MongoDB's
 *   https://www.mongodb.com/docs/manual/core/security-scram/ and the drivers' auth specification);
 *   a failed login is `{ok: 0, code: 18, codeName: "AuthenticationFailed"}`.
 * - A client speaking HTTP to the driver port gets a short plain-text HTTP answer.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { Binary, calculateObjectSize, deserialize, Long, ObjectId, serialize, type Document } from 'bson';

export interface FakeMongoCollection {
  documents: Document[];
  /** A view (listCollections `type: "view"`) rather than a collection. */
  view?: boolean;
}

export interface FakeMongoDatabase {
  name: string;
  /** listDatabases `sizeOnDisk`, in bytes. */
  sizeOnDisk: number;
  collections: Record<string, FakeMongoCollection>;
}

export interface FakeMongoOptions {
  databases: FakeMongoDatabase[];
  /**
   * `none`: no access control. `unauthorized`: access control on, so data commands from an
   * unauthenticated client fail with code 13. `empty-list`: listDatabases answers an empty list.
   */
  auth?: 'none' | 'unauthorized' | 'empty-list';
  /** A user stored in `admin` that unlocks every command once authenticated (with `auth` set). */
  user?: { name: string; password: string };
  /** `modern` (7.0, OP_MSG) or `legacy` (3.4: OP_QUERY only, no OP_MSG, no `hello` command). */
  era?: 'modern' | 'legacy';
}

export interface FakeMongo {
  port: number;
  /** Every command received, as `name` (the first key of the command document). */
  commands: string[];
  /** How many messages arrived per opcode. */
  opcodes: Map<number, number>;
  stop(): Promise<void>;
}

const opReply = 1;
const opQuery = 2004;
const opMsg = 2013;
const maxMessageBytes = 48_000_000;

interface Cursor {
  ns: string;
  remaining: Document[];
}

function header(length: number, requestId: number, responseTo: number, opCode: number): Buffer {
  const out = Buffer.alloc(16);
  out.writeInt32LE(length, 0);
  out.writeInt32LE(requestId, 4);
  out.writeInt32LE(responseTo, 8);
  out.writeInt32LE(opCode, 12);
  return out;
}

function msgReply(requestId: number, responseTo: number, body: Document): Buffer {
  const doc = serialize(body, { ignoreUndefined: true });
  const flags = Buffer.alloc(5);
  // flagBits 0, then section kind 0.
  return Buffer.concat([header(16 + 5 + doc.length, requestId, responseTo, opMsg), flags, doc]);
}

function legacyReply(requestId: number, responseTo: number, body: Document): Buffer {
  const doc = serialize(body, { ignoreUndefined: true });
  const fixed = Buffer.alloc(20);
  // responseFlags 0 (AwaitCapable is 8 on real servers), cursorID 0, startingFrom 0, numberReturned 1.
  fixed.writeInt32LE(8, 0);
  fixed.writeInt32LE(1, 16);
  return Buffer.concat([header(16 + 20 + doc.length, requestId, responseTo, opReply), fixed, doc]);
}

function errorBody(code: number, codeName: string, errmsg: string): Document {
  return { ok: 0, errmsg, code, codeName };
}

function cstring(buffer: Buffer, offset: number): { value: string; next: number } {
  const end = buffer.indexOf(0, offset);
  if (end < 0) throw new Error('unterminated cstring');
  return { value: buffer.toString('utf8', offset, end), next: end + 1 };
}

/** The command document of an OP_MSG: the kind-0 body plus kind-1 document sequences. */
function parseOpMsg(message: Buffer): Document {
  const flags = message.readUInt32LE(16);
  // checksumPresent (bit 0): the last 4 bytes are a CRC-32C, not a section.
  const end = message.length - (flags & 1 ? 4 : 0);
  let offset = 20;
  let body: Document | undefined;
  const sequences: Record<string, Document[]> = {};
  while (offset < end) {
    const kind = message[offset];
    offset += 1;
    const size = message.readInt32LE(offset);
    if (kind === 0) {
      body = deserialize(message.subarray(offset, offset + size));
      offset += size;
    } else if (kind === 1) {
      const id = cstring(message, offset + 4);
      const docs: Document[] = [];
      let at = id.next;
      while (at < offset + size) {
        const docSize = message.readInt32LE(at);
        docs.push(deserialize(message.subarray(at, at + docSize)));
        at += docSize;
      }
      sequences[id.value] = docs;
      offset += size;
    } else throw new Error(`unknown section kind ${String(kind)}`);
  }
  if (body === undefined) throw new Error('OP_MSG without a body section');
  return { ...body, ...sequences };
}

/** OP_QUERY: flags, fullCollectionName, numberToSkip, numberToReturn, query document. */
function parseOpQuery(message: Buffer): { ns: string; query: Document } {
  const ns = cstring(message, 20);
  const at = ns.next + 8;
  const size = message.readInt32LE(at);
  let query = deserialize(message.subarray(at, at + size));
  // Old drivers wrap commands sent with a read preference as {$query: {...}, $readPreference}.
  if (typeof query.$query === 'object' && query.$query !== null) query = query.$query as Document;
  return { ns: ns.value, query };
}

const modernVersion = { version: '7.0.14', maxWireVersion: 21 };
const legacyVersion = { version: '3.4.24', maxWireVersion: 5 };

export async function startFakeMongo(options: FakeMongoOptions): Promise<FakeMongo> {
  const auth = options.auth ?? 'none';
  const era = options.era ?? 'modern';
  const build = era === 'modern' ? modernVersion : legacyVersion;
  const commands: string[] = [];
  const opcodes = new Map<number, number>();
  const sockets = new Set<Socket>();
  const cursors = new Map<string, Cursor>();
  let nextCursor = 1000n;
  let nextRequestId = 1;
  let connectionId = 0;

  const database = (name: unknown): FakeMongoDatabase | undefined =>
    options.databases.find((d) => d.name === name);

  function handshake(isHello: boolean, thisConnection: number): Document {
    return {
      ...(isHello ? { isWritablePrimary: true } : { ismaster: true }),
      topologyVersion:
        era === 'modern' ? { processId: new ObjectId(), counter: Long.fromNumber(0) } : undefined,
      maxBsonObjectSize: 16 * 1024 * 1024,
      maxMessageSizeBytes: maxMessageBytes,
      maxWriteBatchSize: era === 'modern' ? 100_000 : 1000,
      localTime: new Date(),
      logicalSessionTimeoutMinutes: era === 'modern' ? 30 : undefined,
      connectionId: thisConnection,
      minWireVersion: 0,
      maxWireVersion: build.maxWireVersion,
      readOnly: false,
      ok: 1,
    };
  }

  function batch(cursorNs: string, docs: Document[], size: number, first: boolean): Document {
    const taken = docs.slice(0, size);
    const rest = docs.slice(size);
    let id = Long.fromNumber(0);
    if (rest.length > 0) {
      const key = String(nextCursor++);
      cursors.set(key, { ns: cursorNs, remaining: rest });
      id = Long.fromString(key);
    }
    return { cursor: { [first ? 'firstBatch' : 'nextBatch']: taken, id, ns: cursorNs }, ok: 1 };
  }

  // SCRAM state per connection: the conversation in progress and whether it ended in a login.
  const scram = new Map<
    number,
    { authMessage: string; serverNonce: string; salted: Buffer; done: boolean; skip: boolean }
  >();
  const authenticated = new Set<number>();
  const salt = randomBytes(16);
  const iterations = 4096;
  const hash = era === 'modern' ? 'sha256' : 'sha1';

  function sasl(command: Document, name: string, thisConnection: number): Document {
    const failed = errorBody(18, 'AuthenticationFailed', 'Authentication failed.');
    const payload: unknown = command.payload;
    const text = payload instanceof Binary ? Buffer.from(payload.buffer).toString('utf8') : '';
    const user = options.user;
    if (name === 'saslStart') {
      const mechanism = era === 'modern' ? 'SCRAM-SHA-256' : 'SCRAM-SHA-1';
      if (command.mechanism !== mechanism || user === undefined) return failed;
      const bare = text.replace(/^n,,/, '');
      const fields = new Map(bare.split(',').map((p) => [p.slice(0, 1), p.slice(2)] as const));
      if (fields.get('n') !== user.name) return failed;
      const serverNonce = `${fields.get('r') ?? ''}${randomBytes(18).toString('base64')}`;
      const serverFirst = `r=${serverNonce},s=${salt.toString('base64')},i=${iterations}`;
      const secret =
        era === 'modern'
          ? user.password
          : createHash('md5').update(`${user.name}:mongo:${user.password}`).digest('hex');
      const salted = pbkdf2Sync(secret, salt, iterations, era === 'modern' ? 32 : 20, hash);
      const skip = (command.options as Document | undefined)?.skipEmptyExchange === true;
      scram.set(thisConnection, {
        authMessage: `${bare},${serverFirst}`,
        serverNonce,
        salted,
        done: false,
        skip,
      });
      return { conversationId: 1, done: false, payload: new Binary(Buffer.from(serverFirst)), ok: 1 };
    }
    const state = scram.get(thisConnection);
    if (state === undefined) return errorBody(17, 'ProtocolError', 'No SASL session state found');
    if (state.done) {
      authenticated.add(thisConnection);
      return { conversationId: 1, done: true, payload: new Binary(Buffer.alloc(0)), ok: 1 };
    }
    const withoutProof = text.replace(/,p=[^,]*$/, '');
    const proof = Buffer.from(/,p=([^,]*)$/.exec(text)?.[1] ?? '', 'base64');
    if (withoutProof !== `c=biws,r=${state.serverNonce}`) return failed;
    const authMessage = `${state.authMessage},${withoutProof}`;
    const hmac = (key: Buffer, data: string): Buffer => createHmac(hash, key).update(data).digest();
    const clientKey = hmac(state.salted, 'Client Key');
    const storedKey = createHash(hash).update(clientKey).digest();
    const signature = hmac(storedKey, authMessage);
    const recovered = Buffer.from(proof.map((b, i) => b ^ (signature[i] ?? 0)));
    if (!createHash(hash).update(recovered).digest().equals(storedKey)) return failed;
    const verifier = hmac(hmac(state.salted, 'Server Key'), authMessage).toString('base64');
    const skip = state.skip;
    // Without skipEmptyExchange the server wants one more, empty, saslContinue.
    state.done = true;
    if (skip) authenticated.add(thisConnection);
    return { conversationId: 1, done: skip, payload: new Binary(Buffer.from(`v=${verifier}`)), ok: 1 };
  }

  function run(command: Document, dbName: string, thisConnection: number): Document {
    const name = Object.keys(command)[0] ?? '';
    commands.push(name);
    const lower = name.toLowerCase();
    if (name === 'saslStart' || name === 'saslContinue') return sasl(command, name, thisConnection);
    if (lower === 'hello' && era === 'legacy')
      return errorBody(59, 'CommandNotFound', "no such command: 'hello'");
    if (lower === 'hello' || lower === 'ismaster') return handshake(lower === 'hello', thisConnection);
    if (lower === 'buildinfo') {
      const parts = build.version.split('.').map(Number);
      return {
        version: build.version,
        gitVersion: '0000000000000000000000000000000000000000',
        versionArray: [...parts, 0],
        bits: 64,
        maxBsonObjectSize: 16 * 1024 * 1024,
        ok: 1,
      };
    }
    if (lower === 'ping') return { ok: 1 };
    if (auth === 'unauthorized' && !authenticated.has(thisConnection))
      return errorBody(13, 'Unauthorized', `command ${name} requires authentication`);
    switch (name) {
      case 'listDatabases': {
        if (auth === 'empty-list' && !authenticated.has(thisConnection))
          return { databases: [], totalSize: 0, totalSizeMb: 0, ok: 1 };
        const dbs = options.databases.map((d) => ({
          name: d.name,
          sizeOnDisk: d.sizeOnDisk,
          empty: Object.keys(d.collections).length === 0,
        }));
        const totalSize = dbs.reduce((sum, d) => sum + d.sizeOnDisk, 0);
        return command.nameOnly === true
          ? { databases: dbs.map((d) => ({ name: d.name })), ok: 1 }
          : { databases: dbs, totalSize, totalSizeMb: Math.floor(totalSize / 1048576), ok: 1 };
      }
      case 'listCollections': {
        const db = database(dbName);
        const infos = Object.entries(db?.collections ?? {}).map(([collName, coll]) => ({
          name: collName,
          type: coll.view === true ? 'view' : 'collection',
          options: {},
          info: { readOnly: coll.view === true },
        }));
        return batch(`${dbName}.$cmd.listCollections`, infos, Number.MAX_SAFE_INTEGER, true);
      }
      case 'dbStats': {
        const db = database(dbName);
        const colls = Object.values(db?.collections ?? {}).filter((c) => c.view !== true);
        const objects = colls.reduce((sum, c) => sum + c.documents.length, 0);
        const dataSize = colls.reduce(
          (sum, c) => sum + c.documents.reduce((s, d) => s + calculateObjectSize(d), 0),
          0,
        );
        return {
          db: dbName,
          collections: colls.length,
          objects,
          dataSize,
          storageSize: db?.sizeOnDisk ?? 0,
          ok: 1,
        };
      }
      case 'count': {
        const coll = database(dbName)?.collections[String(command.count)];
        return { n: coll?.documents.length ?? 0, ok: 1 };
      }
      case 'find': {
        const collName = String(command.find);
        const docs = database(dbName)?.collections[collName]?.documents ?? [];
        const limit = typeof command.limit === 'number' && command.limit > 0 ? command.limit : docs.length;
        // Without batchSize the first batch holds 101 documents (find's documented default).
        const size = typeof command.batchSize === 'number' ? command.batchSize : 101;
        return batch(`${dbName}.${collName}`, docs.slice(0, limit), size, true);
      }
      case 'getMore': {
        const raw: unknown = command.getMore;
        const key = raw instanceof Long ? raw.toString() : String(raw);
        const cursor = cursors.get(key);
        if (cursor === undefined) return errorBody(43, 'CursorNotFound', `cursor id ${key} not found`);
        cursors.delete(key);
        const size = typeof command.batchSize === 'number' ? command.batchSize : cursor.remaining.length;
        return batch(cursor.ns, cursor.remaining, size, false);
      }
      case 'killCursors':
        return { cursorsKilled: [], ok: 1 };
      default:
        return errorBody(59, 'CommandNotFound', `no such command: '${name}'`);
    }
  }

  function handle(socket: Socket, message: Buffer, thisConnection: number): void {
    const requestId = message.readInt32LE(4);
    const opCode = message.readInt32LE(12);
    opcodes.set(opCode, (opcodes.get(opCode) ?? 0) + 1);
    if (opCode === opMsg) {
      // 3.4 and older: an unknown opcode ends the connection.
      if (era === 'legacy') {
        socket.destroy();
        return;
      }
      const command = parseOpMsg(message);
      const db = typeof command.$db === 'string' ? command.$db : '';
      if (db === '') {
        socket.write(
          msgReply(
            nextRequestId++,
            requestId,
            errorBody(40571, 'Location40571', 'OP_MSG requests require a $db argument'),
          ),
        );
        return;
      }
      const { $db: _db, ...rest } = command;
      socket.write(msgReply(nextRequestId++, requestId, run(rest, db, thisConnection)));
      return;
    }
    if (opCode === opQuery) {
      const { ns, query } = parseOpQuery(message);
      const dot = ns.indexOf('.');
      const db = ns.slice(0, dot);
      const name = (Object.keys(query)[0] ?? '').toLowerCase();
      if (ns.slice(dot + 1) !== '$cmd') {
        socket.write(
          legacyReply(nextRequestId++, requestId, {
            $err: 'OP_QUERY on collections is not supported',
            code: 5739101,
            ok: 0,
          }),
        );
        return;
      }
      // 5.1+: OP_QUERY commands other than hello/isMaster are removed.
      if (era === 'modern' && name !== 'hello' && name !== 'ismaster') {
        socket.write(
          legacyReply(
            nextRequestId++,
            requestId,
            errorBody(352, 'UnsupportedOpQueryCommand', `Unsupported OP_QUERY command: ${name}`),
          ),
        );
        return;
      }
      socket.write(legacyReply(nextRequestId++, requestId, run(query, db, thisConnection)));
      return;
    }
    socket.destroy();
  }

  const server = createServer((socket) => {
    sockets.add(socket);
    const thisConnection = ++connectionId;
    let buffer = Buffer.alloc(0);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length >= 4 && buffer.subarray(0, 4).toString('latin1') === 'GET ') {
        const text = 'It looks like you are trying to access MongoDB over HTTP on the native driver port.\n';
        socket.end(
          `HTTP/1.0 200 OK\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`,
        );
        return;
      }
      while (buffer.length >= 4) {
        const length = buffer.readInt32LE(0);
        if (length < 16 || length > maxMessageBytes) {
          socket.destroy();
          return;
        }
        if (buffer.length < length) return;
        const message = buffer.subarray(0, length);
        buffer = buffer.subarray(length);
        try {
          handle(socket, message, thisConnection);
        } catch {
          socket.destroy();
          return;
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('no port');
  return {
    port: address.port,
    commands,
    opcodes,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
}
