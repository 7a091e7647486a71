import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProtocolError } from '../core/errors.js';
import { sanitizeText } from '../core/redact.js';
import type { CollectionInfo, ServerInfo } from '../core/scan-report.js';
import type { Connector, ProbeContext, ProbeResult, ProbeTarget, RecordSink } from './connector.js';
import { topicFamily } from './key-family.js';
import { probeFailure } from './network-failure.js';
import { TcpSession } from './tcp-session.js';

/*
 * MQTT 3.1.1 spoken raw over TcpSession rather than through the `mqtt` package: the package's
 * packet parser buffers a packet of any announced length (up to 256 MB) before we see it, and it
 * brings reconnect and keepalive timers we would have to disarm. Here every read is capped by
 * ctx.maxBytes, every wait honours ctx.signal, and the only packets we can ever send are CONNECT,
 * SUBSCRIBE, PINGREQ, UNSUBSCRIBE and DISCONNECT: never PUBLISH (DESIGN.md invariant 1).
 * Packet layouts: OASIS MQTT 3.1.1, http://docs.oasis-open.org/mqtt/mqtt/v3.1.1/os/mqtt-v3.1.1-os.html
 */

// §2.2.1 control packet types.
const CONNACK = 2;
const PUBLISH = 3;
const SUBACK = 9;
const UNSUBACK = 11;
const PINGRESP = 13;

const allTopics = '#';
// §4.7.2: `#` never matches topics that start with `$`, so the broker's own tree needs its own filter.
const sysTopics = '$SYS/#';

/** How long we listen for traffic, at most; the rest of the timeout is left for teardown. */
const maxWindowMs = 2_000;
/** Between keepalive round trips in the window (see `listen`). */
const pollMs = 200;
const maxMessages = 10_000;
const maxTopics = 1_000;
const maxSeenBytes = 4 * 1024 * 1024;

interface Packet {
  type: number;
  flags: number;
  body: Buffer;
}

// §1.5.3: UTF-8 string prefixed with its two-byte big-endian length.
function encodeString(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

// §2.2.3: remaining length, 7 bits per byte, least significant first, high bit = "more follows".
function encodeRemainingLength(length: number): Buffer {
  const bytes: number[] = [];
  let rest = length;
  do {
    let digit = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) digit |= 0x80;
    bytes.push(digit);
  } while (rest > 0);
  return Buffer.from(bytes);
}

function encodePacket(firstByte: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([firstByte]), encodeRemainingLength(body.length), body]);
}

function packetId(id: number): Buffer {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16BE(id);
  return bytes;
}

// §3.1: protocol name "MQTT", level 4, flags, keepalive; payload client id, user name, password.
function encodeConnect(clientId: string, username: string | undefined, password: string | undefined): Buffer {
  // §3.1.2.9: a password needs the user name flag, so `mqtt://:pw@host` sends an empty user name.
  const user = password !== undefined ? (username ?? '') : username;
  let flags = 0x02; // clean session: nothing is stored for us after we leave
  if (user !== undefined) flags |= 0x80;
  if (password !== undefined) flags |= 0x40;
  const keepAlive = Buffer.alloc(2);
  keepAlive.writeUInt16BE(60);
  const parts = [encodeString('MQTT'), Buffer.from([4, flags]), keepAlive, encodeString(clientId)];
  if (user !== undefined) parts.push(encodeString(user));
  if (password !== undefined) parts.push(encodeString(password));
  return encodePacket(0x10, Buffer.concat(parts));
}

// §3.8: SUBSCRIBE's fixed header flags must be 0b0010; each filter asks for QoS 0 (nothing to ack).
function encodeSubscribe(id: number, filters: readonly string[]): Buffer {
  return encodePacket(
    0x82,
    Buffer.concat([packetId(id), ...filters.flatMap((f) => [encodeString(f), Buffer.from([0])])]),
  );
}

// §3.10: UNSUBSCRIBE, flags 0b0010.
function encodeUnsubscribe(id: number, filters: readonly string[]): Buffer {
  return encodePacket(0xa2, Buffer.concat([packetId(id), ...filters.map(encodeString)]));
}

const pingreq = Buffer.from([0xc0, 0x00]); // §3.12
const disconnect = Buffer.from([0xe0, 0x00]); // §3.14

/** Frame reader for TcpSession: one whole control packet (§2.2 fixed header + remaining length). */
function readPacket(buffer: Buffer): number | undefined {
  let length = 0;
  let multiplier = 1;
  for (let index = 1; ; index++) {
    if (index > 4) throw new ProtocolError('malformed MQTT remaining length');
    const byte = buffer[index];
    if (byte === undefined) return undefined;
    length += (byte & 0x7f) * multiplier;
    multiplier *= 128;
    if ((byte & 0x80) === 0) {
      const total = index + 1 + length;
      return buffer.length >= total ? total : undefined;
    }
  }
}

/** The first answer must be a CONNACK (0x20, §3.2.1); anything else is not an MQTT broker. */
function readConnack(buffer: Buffer): number | undefined {
  if (buffer[0] !== CONNACK << 4)
    throw new ProtocolError('answered CONNECT with something other than CONNACK');
  return readPacket(buffer);
}

function decodePacket(frame: Buffer): Packet {
  const first = frame[0] ?? 0;
  let offset = 1;
  while (((frame[offset] ?? 0) & 0x80) !== 0) offset++;
  return { type: first >> 4, flags: first & 0x0f, body: frame.subarray(offset + 1) };
}

// §3.2.2.3 (3.1.1 return codes) and, for brokers that answer in MQTT 5 anyway, MQTT 5.0 §3.2.2.2.
function connackVerdict(code: number, withCredentials: boolean): ProbeResult | undefined {
  switch (code) {
    case 0:
      return undefined;
    case 4:
    case 0x86:
      return {
        status: 'auth-required',
        detail: withCredentials
          ? 'broker rejected the given user name or password (CONNACK: bad user name or password)'
          : 'broker requires a user name and password (CONNACK: bad user name or password)',
      };
    case 5:
    case 0x87:
      return {
        status: 'auth-required',
        detail: withCredentials
          ? 'broker refused the given credentials (CONNACK: not authorized)'
          : 'broker refuses anonymous clients (CONNACK: not authorized)',
      };
    case 0x8a:
      return { status: 'auth-required', detail: 'broker refused the connection (CONNACK: banned)' };
    case 1:
    case 0x84:
      return {
        status: 'error',
        detail: 'broker does not accept MQTT 3.1.1 (CONNACK: unacceptable protocol version)',
      };
    case 3:
    case 0x88:
      return { status: 'error', detail: 'broker answered CONNACK: server unavailable' };
    default:
      return { status: 'error', detail: `broker refused CONNECT with return code ${code}` };
  }
}

/** What the listening window saw. */
class Observations {
  readonly topics = new Map<string, number>();
  readonly sys = new Map<string, string>();
  /** Payloads handed to the sampler per topic family (the topic with variable levels as `*`). */
  readonly sampled = new Map<string, number>();
  messages = 0;
  retained = 0;
  bytes = 0;
  capped: string | undefined;

  /** With a sampler, payloads seen in the window are the records: MQTT keeps no history to read. */
  constructor(private readonly sampler?: RecordSink) {}

  private sample(topic: string, payload: Buffer): void {
    if (this.sampler === undefined) return;
    const family = topicFamily(topic);
    const taken = this.sampled.get(family) ?? 0;
    if (taken >= this.sampler.limit) return;
    this.sampled.set(family, taken + 1);
    // As text: the classifier parses JSON payloads and treats the rest as a value.
    this.sampler.add(family, payload.toString('utf8'));
  }

  // §3.3: PUBLISH = topic name, packet id when QoS > 0, payload; flags DUP|QoS(2)|RETAIN.
  observe(packet: Packet): void {
    if (packet.type !== PUBLISH) return;
    const qos = (packet.flags >> 1) & 0x03;
    if (qos === 3) throw new ProtocolError('PUBLISH with QoS 3');
    const topicLength = packet.body.length >= 2 ? packet.body.readUInt16BE(0) : -1;
    if (topicLength < 0 || 2 + topicLength > packet.body.length) throw new ProtocolError('truncated PUBLISH');
    const topic = packet.body.toString('utf8', 2, 2 + topicLength);
    const payload = packet.body.subarray(2 + topicLength + (qos > 0 ? 2 : 0));
    this.bytes += packet.body.length;
    if (topic.startsWith('$')) {
      // Only a few short $SYS values are read; a broker's huge $SYS payload is not kept.
      if (this.sys.size < 200)
        this.sys.set(topic, payload.toString('utf8', 0, Math.min(payload.length, 200)));
    } else {
      const seen = this.topics.get(topic);
      if (seen === undefined && this.topics.size >= maxTopics) {
        this.capped = `${maxTopics} topics`;
        return;
      }
      this.topics.set(topic, (seen ?? 0) + 1);
      this.messages++;
      this.sample(topic, payload);
      // §3.3.1.3: RETAIN is set on messages sent because of a new subscription (the stored ones).
      if ((packet.flags & 0x01) !== 0) this.retained++;
    }
    if (this.messages >= maxMessages) this.capped = `${maxMessages} messages`;
    if (this.bytes >= maxSeenBytes) this.capped = `${maxSeenBytes} bytes`;
  }

  server(): ServerInfo {
    const banner = this.sys.get('$SYS/broker/version');
    if (banner === undefined) return { product: 'mqtt' };
    // Mosquitto: "mosquitto version 2.0.11" (https://mosquitto.org/man/mosquitto-8.html, $SYS topics).
    const mosquitto = /^mosquitto version (\S+)/i.exec(banner.trim());
    if (mosquitto?.[1] !== undefined)
      return { product: 'mosquitto', version: sanitizeText(mosquitto[1], 40) };
    return { product: 'mqtt', version: sanitizeText(banner, 40) };
  }

  /** Broker-wide counters from $SYS, for the detail line. */
  counters(): string {
    const parts: string[] = [];
    const add = (topic: string, label: string): void => {
      const value = this.sys.get(`$SYS/broker/${topic}`)?.trim();
      if (value !== undefined && /^\d+$/.test(value)) parts.push(`${value} ${label}`);
    };
    add('retained messages/count', 'retained messages');
    add('clients/connected', 'clients connected');
    add('messages/stored', 'messages stored');
    return parts.length === 0 ? '' : `; $SYS reports ${parts.join(', ')}`;
  }
}

/**
 * Listens until the window closes. TcpSession only reads in answer to a request, so the window is
 * paced by PINGREQ/PINGRESP round trips: harmless keepalives that also mark the point where the
 * broker has delivered everything queued before them (retained messages follow SUBACK, §3.8.4).
 */
async function listen(
  session: TcpSession,
  seen: Observations,
  windowMs: number,
  signal: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + windowMs;
  let send: Buffer | undefined = pingreq;
  for (;;) {
    const packet = decodePacket(await session.request(send, readPacket));
    send = undefined;
    if (packet.type === PINGRESP) {
      if (seen.capped !== undefined || Date.now() >= deadline) return;
      await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())), undefined, { signal });
      send = pingreq;
      continue;
    }
    seen.observe(packet);
    if (seen.capped !== undefined) return;
  }
}

/** Unsubscribes and disconnects, waiting briefly for UNSUBACK so the broker sees a clean exit. */
async function leave(session: TcpSession, filters: readonly string[], waitMs: number): Promise<void> {
  const done = (async () => {
    let send: Buffer | undefined = Buffer.concat([encodeUnsubscribe(2, filters), disconnect]);
    for (;;) {
      const packet = decodePacket(await session.request(send, readPacket));
      send = undefined;
      if (packet.type === UNSUBACK) return;
    }
  })().catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    done,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, waitMs);
    }),
  ]);
  clearTimeout(timer);
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function collectionsOf(seen: Observations): CollectionInfo[] {
  return [...seen.topics]
    .map(([name, records]) => ({ name: sanitizeText(name, 200), records }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * MQTT: open when CONNECT (anonymous, or with the credentials the target names) is accepted AND a
 * SUBSCRIBE to `#` is granted, because only then can a stranger read the broker's traffic. Sizes
 * come from a short listening window, so they are a sample (approximate), not an inventory.
 */
export const mqttConnector = {
  defaultPorts: [1883],
  async probe(target: ProbeTarget, ctx: ProbeContext): Promise<ProbeResult> {
    let session: TcpSession | undefined;
    const withCredentials = target.username !== undefined || target.password !== undefined;
    const how = withCredentials ? 'CONNECT with the given credentials' : 'anonymous CONNECT';
    try {
      session = await TcpSession.open({
        host: target.host,
        port: target.port,
        signal: ctx.signal,
        maxBytes: ctx.maxBytes,
      });
      const clientId = `leakwatch-${randomBytes(6).toString('hex')}`;
      const connack = decodePacket(
        await session.request(encodeConnect(clientId, target.username, target.password), readConnack),
      );
      const code = connack.body[1];
      if (code === undefined) throw new ProtocolError('CONNACK too short');
      // §3.2.2.1: bits 7–1 of the acknowledge flags are reserved and 0. Random bytes that happen to
      // start with 0x20 (a hostile or unrelated server) must not pass for a broker.
      if ((connack.body[0] ?? 0xff) > 1) throw new ProtocolError('CONNACK with reserved flags set');
      const refused = connackVerdict(code, withCredentials);
      if (refused) return { ...refused, server: { product: 'mqtt' } };

      const filters = [allTopics, sysTopics];
      let suback: Packet | undefined;
      const seen = new Observations(
        ctx.sampler !== undefined && ctx.sampler.limit > 0 ? ctx.sampler : undefined,
      );
      try {
        let send: Buffer | undefined = encodeSubscribe(1, filters);
        while (suback === undefined) {
          const packet = decodePacket(await session.request(send, readPacket));
          send = undefined;
          if (packet.type === SUBACK) suback = packet;
          else seen.observe(packet);
        }
      } catch (error) {
        // §3.8.4 lets a 3.1.1 broker drop the connection instead of answering 0x80 (AWS IoT does).
        const reason = (error as NodeJS.ErrnoException).code;
        if (reason === 'ECONNRESET' || reason === 'EPIPE') {
          return {
            status: 'auth-required',
            detail: `${how} accepted, but the broker closed the connection on SUBSCRIBE #`,
            server: seen.server(),
          };
        }
        throw error;
      }
      // §3.9.3: SUBACK = packet id, then one return code per filter in order; 0x80 = failure.
      const grantedAll = suback.body[2];
      if (grantedAll === undefined) throw new ProtocolError('SUBACK without return codes');

      const windowMs = Math.min(maxWindowMs, Math.floor(ctx.timeoutMs * 0.3));
      let cutShort = '';
      try {
        // With `#` refused, one round trip still collects the retained $SYS banner for the report.
        await listen(session, seen, grantedAll === 0x80 ? 0 : windowMs, ctx.signal);
      } catch (error) {
        // The verdict is already known; a window cut short by a cap or the broker only shrinks it.
        if (ctx.signal.aborted) throw error;
        cutShort = `; listening stopped early (${probeFailure(error, ctx).detail})`;
      }
      const server = seen.server();
      const remaining = Math.max(0, ctx.timeoutMs - windowMs);
      await leave(session, filters, Math.min(1_000, remaining / 2));

      if (grantedAll === 0x80) {
        return {
          status: 'auth-required',
          detail: `${how} accepted, but SUBSCRIBE # was refused (SUBACK 0x80)${seen.counters()}`,
          server,
        };
      }
      const collections = collectionsOf(seen);
      const capped = seen.capped === undefined ? '' : ` (stopped at ${seen.capped})`;
      const sampled =
        ctx.sampler === undefined
          ? ''
          : `; sampled ${count(
              [...seen.sampled.values()].reduce((a, b) => a + b, 0),
              'message',
            )} in ` + `${seen.sampled.size} topic ${seen.sampled.size === 1 ? 'family' : 'families'}`;
      return {
        status: 'open',
        detail:
          `${how} and SUBSCRIBE # accepted; ${count(seen.messages, 'message')} (${seen.retained} retained) ` +
          `on ${count(collections.length, 'topic')} in ${windowMs / 1000} s${capped}${sampled}${seen.counters()}${cutShort}`,
        server,
        size: { collections: collections.length, records: seen.messages, approximate: true },
        collections,
      };
    } catch (error) {
      return probeFailure(error, ctx);
    } finally {
      session?.close();
    }
  },
} satisfies Connector;
