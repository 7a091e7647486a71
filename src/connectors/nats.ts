import { withDeadline } from '../core/deadline-signal.js';
import { ProtocolError } from '../core/errors.js';
import { sanitizeText } from '../core/redact.js';
import type { CollectionInfo, StoreSize } from '../core/scan-report.js';
import type { Connector, ProbeContext, ProbeResult, ProbeTarget, RecordSink } from './connector.js';
import { httpRequest, parseJsonBody } from './http-request.js';
import { keyFamily } from './key-family.js';
import { probeFailure } from './network-failure.js';
import { TcpSession } from './tcp-session.js';

// NATS client protocol: https://docs.nats.io/reference/reference-protocols/nats-protocol
// The server speaks first with `INFO {json}`; every operation is one CRLF line, and `MSG`/`HMSG`
// lines are followed by a payload of the byte count they name.

// A control line longer than this is not NATS (the server's own limit is 4 KB, `max_control_line`).
const maxControlLine = 64 * 1024;
// Monitoring endpoints are answered at once or not at all; they must not eat the probe's time.
const maxMonitorMs = 1500;
// Sampling listens for live traffic this long at most (and 30 % of the probe timeout).
const maxListenMs = 1500;
// Messages read in one sampling window, whatever the families.
const maxMessages = 10_000;
// Family counters live in memory for the whole run; random subjects must not grow them.
const maxFamilies = 10_000;

/** One control line, with the payload that follows `MSG` and `HMSG`. */
function readNatsFrame(buffer: Buffer): number | undefined {
  const at = buffer.indexOf('\r\n');
  if (at < 0) {
    if (buffer.length > maxControlLine) throw new ProtocolError('answer is not NATS (no CRLF line)');
    return undefined;
  }
  const line = buffer.toString('latin1', 0, Math.min(at, 512));
  // `MSG <subject> <sid> [reply-to] <#bytes>`, `HMSG <subject> <sid> [reply-to] <#hdr> <#total>`.
  const message = /^H?MSG \S+ \S+(?: \S+)? (\d+)$/i.exec(line);
  if (message === null) return at + 2;
  const end = at + 2 + Number(message[1]) + 2;
  return buffer.length >= end ? end : undefined;
}

function lineOf(frame: Buffer): string {
  const at = frame.indexOf('\r\n');
  return frame.toString('latin1', 0, at < 0 ? frame.length : at);
}

/** The fields of INFO we use (https://docs.nats.io/reference/reference-protocols/nats-protocol#info). */
interface ServerInfoLine {
  server_id?: unknown;
  server_name?: unknown;
  version?: unknown;
  auth_required?: unknown;
  tls_required?: unknown;
  jetstream?: unknown;
  max_payload?: unknown;
}

function parseInfo(frame: Buffer): ServerInfoLine {
  const line = lineOf(frame);
  if (!line.startsWith('INFO ')) throw new ProtocolError('no NATS INFO line on connect');
  const info = parseJsonBody(Buffer.from(line.slice(5), 'latin1'));
  if (info === null || typeof info !== 'object' || Array.isArray(info))
    throw new ProtocolError('NATS INFO line is not a JSON object');
  return info;
}

/** CONNECT with the credentials the user named, if any: `user`/`pass`, or a lone name as a token. */
function connectLine(target: ProbeTarget): string {
  const options: Record<string, unknown> = {
    verbose: false,
    pedantic: false,
    lang: 'leakwatch',
    version: '1',
    protocol: 1,
    headers: false,
  };
  if (target.username !== undefined && target.password !== undefined) {
    options.user = target.username;
    options.pass = target.password;
  } else if (target.username !== undefined || target.password !== undefined) {
    options.auth_token = target.username ?? target.password;
  }
  return `CONNECT ${JSON.stringify(options)}\r\n`;
}

/**
 * After INFO: sends CONNECT and PING and returns on PONG. An `-ERR` on the way
 * (`'Authorization Violation'`) is returned as text: the server said no.
 */
async function handshake(
  target: ProbeTarget,
  session: TcpSession,
  info: ServerInfoLine,
): Promise<string | undefined> {
  if (info.tls_required === true) return 'the server requires TLS';
  let send: string | undefined = `${connectLine(target)}PING\r\n`;
  for (;;) {
    const line = lineOf(await session.request(send, readNatsFrame));
    send = undefined;
    if (line === 'PONG') return undefined;
    if (line.startsWith('-ERR')) return line.slice(4).trim();
    // `+OK`, an updated INFO, or the server's own PING: not the answer yet.
    if (line === 'PING') send = 'PONG\r\n';
    else if (line !== '+OK' && !line.startsWith('INFO ')) throw new ProtocolError('unexpected NATS line');
  }
}

function numberOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

function objectOf(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

interface Monitoring {
  note: string;
  size?: StoreSize;
  collections?: CollectionInfo[];
}

/**
 * The monitoring port (https://docs.nats.io/running-a-nats-service/nats_admin/monitoring): `/varz`
 * and `/jsz`. Tried only at the default layout's offset (8222 for 4222, client port + 4000), inside
 * the scope, and trusted only when `/varz` names the same `server_id` as INFO.
 */
async function monitoring(target: ProbeTarget, ctx: ProbeContext, serverId: unknown): Promise<Monitoring> {
  const port = target.port + 4000;
  if (port > 65535 || typeof serverId !== 'string') return { note: '' };
  try {
    await ctx.checkScope(target.host, port);
  } catch {
    return { note: '' };
  }
  const { signal } = withDeadline(ctx.signal, Math.min(maxMonitorMs, ctx.timeoutMs / 3));
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  const get = async (path: string): Promise<Record<string, unknown> | undefined> => {
    const response = await httpRequest(new URL(`http://${host}:${port}${path}`), {
      signal,
      maxBytes: ctx.maxBytes,
      rejectLarger: true,
    });
    return response.status === 200 ? objectOf(parseJsonBody(response.body)) : undefined;
  };
  try {
    const varz = await get('/varz');
    if (varz?.server_id !== serverId) return { note: '' };
    const connections = numberOf(varz.connections);
    const subscriptions = numberOf(varz.subscriptions);
    const inMsgs = numberOf(varz.in_msgs);
    const note = `; monitoring port ${port}: ${connections ?? '?'} connections, ${subscriptions ?? '?'} subscriptions, ${inMsgs ?? '?'} messages in`;
    const jsz = await get('/jsz?accounts=true&streams=true');
    if (jsz === undefined || jsz.disabled === true || numberOf(jsz.messages) === undefined) return { note };
    const collections: CollectionInfo[] = [];
    for (const account of Array.isArray(jsz.account_details) ? jsz.account_details : []) {
      const accountName = objectOf(account)?.name;
      const streams = objectOf(account)?.stream_detail;
      for (const stream of Array.isArray(streams) ? streams : []) {
        const name = objectOf(stream)?.name;
        const state = objectOf(objectOf(stream)?.state);
        if (typeof name !== 'string') continue;
        const messages = numberOf(state?.messages);
        const bytes = numberOf(state?.bytes);
        collections.push({
          // Streams of the default account `$G` go by their own name.
          name: sanitizeText(
            typeof accountName === 'string' && accountName !== '$G' ? `${accountName}/${name}` : name,
            100,
          ),
          ...(messages === undefined ? {} : { records: messages }),
          ...(bytes === undefined ? {} : { bytes }),
        });
      }
    }
    const bytes = numberOf(jsz.bytes);
    return {
      note,
      size: {
        collections: numberOf(jsz.streams) ?? collections.length,
        records: numberOf(jsz.messages) ?? 0,
        ...(bytes === undefined ? {} : { bytes }),
      },
      collections,
    };
  } catch {
    return { note: '' };
  }
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * Listens to `>` for a short window on its own connection: NATS keeps no history outside
 * JetStream, so live traffic is what an anonymous client sees. Never publishes, never uses the
 * JetStream API (a consumer would be created), never asks for replies.
 */
async function sampleNats(target: ProbeTarget, ctx: ProbeContext, sampler: RecordSink): Promise<string> {
  const windowMs = Math.min(maxListenMs, ctx.timeoutMs * 0.3);
  const { signal } = withDeadline(sampler.signal, windowMs);
  const taken = new Map<string, number>();
  let messages = 0;
  let bytes = 0;
  let capped = '';
  let session: TcpSession | undefined;
  try {
    session = await TcpSession.open({ host: target.host, port: target.port, signal, maxBytes: ctx.maxBytes });
    const info = parseInfo(await session.request(undefined, readNatsFrame));
    if ((await handshake(target, session, info)) !== undefined) return '; sampling connection refused';
    let send: string | undefined = 'SUB > 1\r\n';
    while (messages < maxMessages) {
      const frame = await session.request(send, readNatsFrame);
      send = undefined;
      const line = lineOf(frame);
      if (line === 'PING') {
        send = 'PONG\r\n';
        continue;
      }
      const header = /^MSG (\S+) \S+(?: \S+)? (\d+)$/.exec(line);
      if (header === null) continue;
      const subject = header[1] ?? '';
      // System and reply subjects carry the server's and clients' plumbing, not records.
      if (subject.startsWith('$') || subject.startsWith('_INBOX.')) continue;
      bytes += Number(header[2]);
      if (bytes > ctx.maxBytes) {
        capped = `; stopped at ${ctx.maxBytes} bytes`;
        break;
      }
      const family = keyFamily(subject);
      const count = taken.get(family);
      if ((count ?? 0) >= sampler.limit) continue;
      if (count === undefined && taken.size >= maxFamilies) continue;
      taken.set(family, (count ?? 0) + 1);
      messages++;
      const start = frame.indexOf('\r\n') + 2;
      sampler.add(family, frame.toString('utf8', start, frame.length - 2));
    }
  } catch (error) {
    // The listening window ending is the normal way out.
    if (!signal.aborted || sampler.signal.aborted) {
      capped += sampler.signal.aborted
        ? '; stopped at the sampling time limit'
        : `; stopped early: ${probeFailure(error, { ...ctx, signal }).detail}`;
    }
  } finally {
    session?.close();
  }
  return `; sampled ${plural(messages, 'message')} in ${plural(taken.size, 'subject family', 'subject families')} over ${windowMs / 1000} s${capped}`;
}

/**
 * NATS over its text protocol. Open when CONNECT without credentials (or with the ones the user
 * named) is answered by PONG; `auth_required` in INFO or `-ERR 'Authorization Violation'` is not
 * open. Sizes come from JetStream through the monitoring port when it answers; core NATS stores
 * nothing, so without it the size is left out.
 */
export const natsConnector = {
  defaultPorts: [4222],
  async probe(target: ProbeTarget, ctx: ProbeContext): Promise<ProbeResult> {
    let session: TcpSession | undefined;
    try {
      session = await TcpSession.open({
        host: target.host,
        port: target.port,
        signal: ctx.signal,
        maxBytes: ctx.maxBytes,
      });
      const named = target.username !== undefined || target.password !== undefined;
      const info = parseInfo(await session.request(undefined, readNatsFrame));
      const version = typeof info.version === 'string' ? sanitizeText(info.version, 40) : undefined;
      const server = version === undefined ? { product: 'nats' } : { product: 'nats', version };
      if (info.auth_required === true && !named) {
        return { status: 'auth-required', detail: 'nats INFO says auth_required', server };
      }
      const refusal = await handshake(target, session, info);
      if (refusal !== undefined) {
        return {
          status: refusal.includes('TLS') ? 'error' : 'auth-required',
          detail: sanitizeText(`nats refused the connection: ${refusal}`),
          server,
        };
      }
      const how = named ? 'with the credentials named in the target' : 'without authentication';
      const jetstream = info.jetstream === true ? 'JetStream on' : 'JetStream off';
      const watch = await monitoring(target, ctx, info.server_id);
      const result: ProbeResult = {
        status: 'open',
        detail: `CONNECT and PING answered ${how}; ${jetstream}${watch.note}`,
        server,
        ...(watch.size === undefined ? {} : { size: watch.size }),
        ...(watch.collections === undefined ? {} : { collections: watch.collections }),
      };
      if (watch.size !== undefined) result.detail += `; ${plural(watch.size.records ?? 0, 'stored message')}`;
      const sampler = ctx.sampler;
      if (sampler !== undefined && sampler.limit > 0) {
        session.close();
        result.detail += await sampleNats(target, ctx, sampler);
      }
      return result;
    } catch (error) {
      return probeFailure(error, ctx);
    } finally {
      session?.close();
    }
  },
} satisfies Connector;
