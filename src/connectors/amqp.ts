import { ProtocolError, ScopeError } from '../core/errors.js';
import { sanitizeText } from '../core/redact.js';
import type { CollectionInfo, ServerInfo, StoreSize } from '../core/scan-report.js';
import type { Connector, ProbeContext, ProbeResult, ProbeTarget } from './connector.js';
import { httpRequest, parseJsonBody } from './http-request.js';
import { probeFailure } from './network-failure.js';
import { TcpSession } from './tcp-session.js';

// AMQP 0-9-1 wire format: https://www.rabbitmq.com/resources/specs/amqp0-9-1.pdf (section 4.2,
// "Protocol header" and "General frame format"); method ids from the same document's class
// definitions, field-table value types from RabbitMQ's errata (https://www.rabbitmq.com/amqp-0-9-1-errata.html).
const protocolHeader = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);
const frameMethod = 1;
const frameEnd = 0xce;
// Frame types a server may send on a connection: method, header, body, heartbeat.
const frameTypes = new Set([1, 2, 3, 8]);

const connectionClass = 10;
const method = {
  start: 10,
  startOk: 11,
  tune: 30,
  tuneOk: 31,
  open: 40,
  openOk: 41,
  close: 50,
  closeOk: 51,
} as const;

// Reply codes of Connection.Close that mean "these credentials may not do this" (spec 1.2).
const accessRefused = 403;
const notAllowed = 530;

// The largest frame we tell the server it may send: Start, Tune and Close are small.
const ourFrameMax = 131_072;
// Management API listing: its page-size maximum is 500; past this many pages the size is a lower bound.
const queuePageSize = 500;
const maxQueuePages = 10;

interface MethodFrame {
  channel: number;
  classId: number;
  methodId: number;
  args: Buffer;
}

type FieldValue = string | number | bigint | boolean | null | FieldValue[] | { [key: string]: FieldValue };

/**
 * One frame (7-byte header, payload, 0xCE) or, when the server rejects our version, its own
 * 8-byte protocol header. Anything else is not AMQP 0-9-1.
 */
function readAmqpFrame(buffer: Buffer): number | undefined {
  if (buffer[0] === 0x41) {
    if (buffer.length < 8) {
      if (!protocolHeader.subarray(0, Math.min(4, buffer.length)).equals(buffer.subarray(0, 4)))
        throw new ProtocolError('answer is not AMQP');
      return undefined;
    }
    if (!buffer.subarray(0, 4).equals(protocolHeader.subarray(0, 4)))
      throw new ProtocolError('answer is not AMQP');
    return 8;
  }
  if (!frameTypes.has(buffer[0] ?? -1)) throw new ProtocolError('answer is not AMQP (unknown frame type)');
  if (buffer.length < 7) return undefined;
  const total = 7 + buffer.readUInt32BE(3) + 1;
  if (buffer.length < total) return undefined;
  if (buffer[total - 1] !== frameEnd) throw new ProtocolError('answer is not AMQP (bad frame end)');
  return total;
}

/** Reads frames until a method frame on channel 0 (heartbeats and stray frames are skipped). */
async function nextMethod(session: TcpSession, send?: Buffer): Promise<MethodFrame | Buffer> {
  let data: Buffer | undefined = send;
  for (;;) {
    const frame = await session.request(data, readAmqpFrame);
    data = undefined;
    if (frame.length === 8 && frame[0] === 0x41) return frame;
    if (frame[0] !== frameMethod) continue;
    const channel = frame.readUInt16BE(1);
    const payload = frame.subarray(7, frame.length - 1);
    if (payload.length < 4) throw new ProtocolError('AMQP method frame too short');
    return {
      channel,
      classId: payload.readUInt16BE(0),
      methodId: payload.readUInt16BE(2),
      args: payload.subarray(4),
    };
  }
}

/** Bounds-checked reader over a method's arguments; a short buffer is a protocol violation. */
class ArgReader {
  private offset = 0;
  constructor(private readonly buffer: Buffer) {}

  private take(length: number): Buffer {
    if (this.offset + length > this.buffer.length) throw new ProtocolError('AMQP arguments cut short');
    const slice = this.buffer.subarray(this.offset, this.offset + length);
    this.offset += length;
    return slice;
  }
  octet(): number {
    return this.take(1).readUInt8(0);
  }
  short(): number {
    return this.take(2).readUInt16BE(0);
  }
  long(): number {
    return this.take(4).readUInt32BE(0);
  }
  shortString(): string {
    return this.take(this.octet()).toString('utf8');
  }
  longBytes(): Buffer {
    return this.take(this.long());
  }
  longString(): string {
    return this.longBytes().toString('utf8');
  }

  // Field values by type octet, as RabbitMQ reads them (errata "field types").
  value(depth: number): FieldValue {
    const type = String.fromCharCode(this.octet());
    switch (type) {
      case 't':
        return this.octet() !== 0;
      case 'b':
        return this.take(1).readInt8(0);
      case 'B':
        return this.octet();
      case 's':
        return this.take(2).readInt16BE(0);
      case 'u':
        return this.short();
      case 'I':
        return this.take(4).readInt32BE(0);
      case 'i':
        return this.long();
      case 'l':
        return this.take(8).readBigInt64BE(0);
      case 'T':
        return this.take(8).readBigUInt64BE(0);
      case 'f':
        return this.take(4).readFloatBE(0);
      case 'd':
        return this.take(8).readDoubleBE(0);
      case 'D': {
        const scale = this.octet();
        return this.take(4).readInt32BE(0) / 10 ** scale;
      }
      case 'S':
        return this.longString();
      case 'x':
        return this.longBytes().toString('hex');
      case 'V':
        return null;
      case 'A': {
        const inner = new ArgReader(this.longBytes());
        const items: FieldValue[] = [];
        while (!inner.done()) items.push(inner.value(depth + 1));
        return items;
      }
      case 'F':
        return new ArgReader(this.longBytes()).table(depth + 1);
      default:
        throw new ProtocolError('AMQP field table holds an unknown value type');
    }
  }

  table(depth = 0): Record<string, FieldValue> {
    // Nesting is bounded by the byte cap already; this stops a deliberately deep table blowing the stack.
    if (depth > 16) throw new ProtocolError('AMQP field table nested too deep');
    const inner = depth === 0 ? new ArgReader(this.longBytes()) : this;
    const table = Object.create(null) as Record<string, FieldValue>;
    while (!inner.done()) {
      const key = inner.shortString();
      table[key] = inner.value(depth);
    }
    return table;
  }

  done(): boolean {
    return this.offset >= this.buffer.length;
  }
}

// Encoders for the few methods a client sends.
function shortString(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > 255) throw new ProtocolError('AMQP short string over 255 bytes');
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}
function longBytes(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}
function u16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(value);
  return b;
}
function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value);
  return b;
}
function stringField(name: string, value: string): Buffer {
  return Buffer.concat([shortString(name), Buffer.from('S'), longBytes(Buffer.from(value, 'utf8'))]);
}

function methodFrame(methodId: number, args: Buffer): Buffer {
  const payload = Buffer.concat([u16(connectionClass), u16(methodId), args]);
  return Buffer.concat([
    Buffer.from([frameMethod]),
    u16(0),
    u32(payload.length),
    payload,
    Buffer.from([frameEnd]),
  ]);
}

// RabbitMQ's default account (https://www.rabbitmq.com/docs/access-control#default-state), tried
// only with --try-default-credentials.
const defaultUser = 'guest';
const defaultPassword = 'guest';

function startOk(username: string, password: string): Buffer {
  // authentication_failure_close asks RabbitMQ to say Close(403) on a bad login instead of just
  // dropping the socket, so a refused login is told apart from a broken peer
  // (https://www.rabbitmq.com/auth-notification.html).
  const capabilities = Buffer.concat([
    shortString('authentication_failure_close'),
    Buffer.from('t'),
    Buffer.from([1]),
  ]);
  const clientProperties = longBytes(
    Buffer.concat([
      stringField('product', 'leakwatch'),
      shortString('capabilities'),
      Buffer.from('F'),
      longBytes(capabilities),
    ]),
  );
  // SASL PLAIN (RFC 4616): authzid NUL authcid NUL password.
  const response = Buffer.concat([
    Buffer.from([0]),
    Buffer.from(username),
    Buffer.from([0]),
    Buffer.from(password),
  ]);
  return methodFrame(
    method.startOk,
    Buffer.concat([clientProperties, shortString('PLAIN'), longBytes(response), shortString('en_US')]),
  );
}

function closeFrame(): Buffer {
  return methodFrame(method.close, Buffer.concat([u16(200), shortString('leakwatch done'), u16(0), u16(0)]));
}

function text(value: FieldValue | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? sanitizeText(value, 80) : undefined;
}

/** `amqp://…/vhost`: the path, URL-decoded; none (or empty) is RabbitMQ's default vhost `/`. */
function vhostOf(target: ProbeTarget): string {
  if (target.path === undefined || target.path === '') return '/';
  try {
    return decodeURIComponent(target.path);
  } catch {
    return target.path;
  }
}

/** Connection.Close's reply code and text (spec: reply-code short, reply-text shortstr). */
function closeReason(args: Buffer): { code: number; text: string } {
  const reader = new ArgReader(args);
  const code = reader.short();
  return { code, text: sanitizeText(reader.shortString(), 120) };
}

interface ManagementSizes {
  size: StoreSize;
  collections: CollectionInfo[];
  port: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Queue depths from the management plugin's HTTP API (https://www.rabbitmq.com/management.html#http-api),
 * with the same credentials. Tried on AMQP port + 10000 (5672 → 15672, the convention) and on 15672,
 * each only inside the scan's scope. Undefined when no management API answers to these credentials.
 */
async function managementSizes(
  target: ProbeTarget,
  ctx: ProbeContext,
  username: string,
  password: string,
): Promise<ManagementSizes | undefined> {
  const ports = [...new Set([target.port + 10_000, 15_672])].filter((p) => p <= 65_535);
  const headers = { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  for (const port of ports) {
    try {
      await ctx.checkScope(target.host, port);
    } catch (error) {
      if (error instanceof ScopeError) continue;
      throw error;
    }
    const base = `http://${host}:${port}`;
    let overview: unknown;
    try {
      const res = await httpRequest(new URL(`${base}/api/overview?columns=rabbitmq_version`), {
        signal: ctx.signal,
        maxBytes: ctx.maxBytes,
        headers,
      });
      overview = res.status === 200 ? parseJsonBody(res.body) : undefined;
    } catch {
      // Nothing on this port (or not HTTP): try the next.
      continue;
    }
    if (!isRecord(overview) || typeof overview.rabbitmq_version !== 'string') continue;

    const collections: CollectionInfo[] = [];
    let records = 0;
    let bytes = 0;
    let approximate = false;
    let total: number | undefined;
    for (let page = 1; page <= maxQueuePages; page++) {
      // Paged listing with only the columns we need: bounded however many queues there are.
      const url = new URL(
        `${base}/api/queues?page=${page}&page_size=${queuePageSize}&columns=name,vhost,messages,message_bytes`,
      );
      const res = await httpRequest(url, {
        signal: ctx.signal,
        maxBytes: ctx.maxBytes,
        headers,
        rejectLarger: true,
      });
      const body = res.status === 200 ? parseJsonBody(res.body) : undefined;
      if (!isRecord(body) || !Array.isArray(body.items)) {
        approximate = true;
        break;
      }
      if (typeof body.total_count === 'number') total = body.total_count;
      for (const item of body.items) {
        if (!isRecord(item) || typeof item.name !== 'string') continue;
        const vhost = typeof item.vhost === 'string' ? item.vhost : '?';
        const info: CollectionInfo = { name: sanitizeText(`${vhost}/${item.name}`, 200) };
        // `messages` is missing until the queue's first stats emission: then the total is a lower bound.
        if (typeof item.messages === 'number') {
          info.records = item.messages;
          records += item.messages;
        } else approximate = true;
        if (typeof item.message_bytes === 'number') {
          info.bytes = item.message_bytes;
          bytes += item.message_bytes;
        }
        collections.push(info);
      }
      const pageCount = typeof body.page_count === 'number' ? body.page_count : page;
      if (page >= pageCount) break;
      if (page === maxQueuePages) approximate = true;
    }
    const size: StoreSize = { collections: Math.max(total ?? 0, collections.length), records, bytes };
    if (approximate || (total !== undefined && total > collections.length)) size.approximate = true;
    return { size, collections, port };
  }
  return undefined;
}

/**
 * RabbitMQ and other AMQP 0-9-1 brokers. The server's Connection.Start names product and version
 * before any login. Every broker requires a login, so without credentials named in the target the
 * answer is auth-required — no password is guessed. With named credentials: PLAIN login and
 * Connection.Open of the vhost, then queue depths from the management API. Messages are never read:
 * AMQP has no peek, and basic.get with requeue still marks a message redelivered, which changes the
 * target (DESIGN.md invariant 1), so nothing is sampled.
 */
export const amqpConnector = {
  defaultPorts: [5672],
  async probe(target: ProbeTarget, ctx: ProbeContext): Promise<ProbeResult> {
    let session: TcpSession | undefined;
    try {
      session = await TcpSession.open({
        host: target.host,
        port: target.port,
        signal: ctx.signal,
        maxBytes: ctx.maxBytes,
      });
      const start = await nextMethod(session, protocolHeader);
      if (Buffer.isBuffer(start)) {
        // The server refused 0-9-1 and named the version it speaks (AMQP 1.0 brokers send protocol id 0 or 3).
        const version = `${start[4] ?? 0}-${start[5] ?? 0}-${start[6] ?? 0}-${start[7] ?? 0}`;
        return {
          status: 'other-protocol',
          detail: `answers with AMQP protocol header ${version}, not 0-9-1`,
        };
      }
      if (start.channel !== 0 || start.classId !== connectionClass || start.methodId !== method.start)
        throw new ProtocolError('answer is not AMQP (expected Connection.Start)');
      const startArgs = new ArgReader(start.args);
      startArgs.octet();
      startArgs.octet();
      const properties = startArgs.table();
      const mechanisms = sanitizeText(startArgs.longString(), 80);
      const server: ServerInfo = { product: text(properties.product) ?? 'AMQP 0-9-1 broker' };
      const version = text(properties.version);
      if (version !== undefined) server.version = version;

      // Only what the user named, or RabbitMQ's documented default account when they opted in
      // with --try-default-credentials: never a guess beyond that (DESIGN.md invariant 1).
      const named = target.username !== undefined && target.password !== undefined;
      const username = named ? (target.username ?? '') : defaultUser;
      const password = named ? (target.password ?? '') : defaultPassword;
      if (!named && ctx.tryDefaultCredentials !== true) {
        return {
          status: 'auth-required',
          detail: `AMQP needs credentials (mechanisms ${mechanisms}); none named`,
          server,
        };
      }
      const whose = named ? 'the named credentials' : 'the default guest account';
      if (!mechanisms.split(' ').includes('PLAIN')) {
        return {
          status: 'auth-required',
          detail: `AMQP offers no PLAIN login (mechanisms ${mechanisms})`,
          server,
        };
      }

      const refused = (code: number, reason: string): ProbeResult => ({
        status: 'auth-required',
        detail: `AMQP refused ${whose} (${code} ${reason})`,
        server,
      });
      let reply: MethodFrame | Buffer;
      try {
        reply = await nextMethod(session, startOk(username, password));
      } catch (error) {
        // Brokers without authentication_failure_close just drop the socket on a bad login.
        if ((error as NodeJS.ErrnoException).code === 'ECONNRESET')
          return refused(accessRefused, 'connection closed');
        throw error;
      }
      if (Buffer.isBuffer(reply)) throw new ProtocolError('unexpected AMQP protocol header');
      if (reply.classId === connectionClass && reply.methodId === method.close) {
        const { code, text: reason } = closeReason(reply.args);
        return refused(code, reason);
      }
      if (reply.classId !== connectionClass || reply.methodId !== method.tune)
        throw new ProtocolError('AMQP: expected Connection.Tune');
      const tune = new ArgReader(reply.args);
      const channelMax = tune.short();
      const frameMax = tune.long();
      const tuneOk = methodFrame(
        method.tuneOk,
        Buffer.concat([
          u16(channelMax),
          u32(frameMax === 0 ? ourFrameMax : Math.min(frameMax, ourFrameMax)),
          // Heartbeat 0: the connection lives a few seconds, far under any heartbeat interval.
          u16(0),
        ]),
      );
      const vhost = vhostOf(target);
      const open = methodFrame(
        method.open,
        Buffer.concat([shortString(vhost), shortString(''), Buffer.from([0])]),
      );
      const opened = await nextMethod(session, Buffer.concat([tuneOk, open]));
      if (Buffer.isBuffer(opened)) throw new ProtocolError('unexpected AMQP protocol header');
      if (opened.classId === connectionClass && opened.methodId === method.close) {
        const { code, text: reason } = closeReason(opened.args);
        if (code === accessRefused || code === notAllowed) return refused(code, reason);
        return { status: 'error', detail: `AMQP closed the connection: ${code} ${reason}`, server };
      }
      if (opened.classId !== connectionClass || opened.methodId !== method.openOk)
        throw new ProtocolError('AMQP: expected Connection.Open-Ok');

      // A clean goodbye, so the broker logs a closed connection rather than an abrupt one.
      try {
        await nextMethod(session, closeFrame());
      } catch {
        // The verdict is already in; a broker that drops instead of Close-Ok changes nothing.
      }
      session.close();
      session = undefined;

      const vhostText = sanitizeText(vhost, 80);
      const notSampled = 'messages not sampled (AMQP cannot read without consuming)';
      const management = await managementSizes(target, ctx, username, password);
      if (management === undefined) {
        return {
          status: 'open',
          detail: `AMQP login with ${whose} accepted on vhost ${vhostText}; no management API answered to these credentials, queue sizes unknown; ${notSampled}`,
          server,
        };
      }
      const { size, collections, port } = management;
      const records = `${size.approximate === true ? 'at least ' : ''}${size.records ?? 0}`;
      return {
        status: 'open',
        detail: `AMQP login with ${whose} accepted on vhost ${vhostText}; ${collections.length} queues, ${records} messages (management API on port ${port}); ${notSampled}`,
        server,
        size,
        collections,
      };
    } catch (error) {
      return probeFailure(error, ctx);
    } finally {
      session?.close();
    }
  },
} satisfies Connector;
