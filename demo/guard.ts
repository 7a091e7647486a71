/**
 * The analytics copy's access protection. pglite-socket has no authentication at all, so this TCP
 * proxy in front of it plays the part of `pg_hba.conf`: while protected it answers every
 * StartupMessage with AuthenticationMD5Password and lets only the one demo login through; while open
 * (the Dec 4 mistake) it pipes every connection straight to PGlite, as a `trust` entry would.
 *
 * Message layouts: PostgreSQL docs, "Frontend/Backend Protocol" › "Message Flow" (Start-up, SSL
 * Session Encryption) and "Message Formats" (StartupMessage, SSLRequest, GSSENCRequest,
 * CancelRequest, AuthenticationMD5Password, PasswordMessage, ErrorResponse).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { listenOnLoopback } from './loopback-server.js';

const protocolVersion = 196608; // 3.0
const sslRequestCode = 80877103;
const gssEncRequestCode = 80877104;
const cancelRequestCode = 80877102;
// A StartupMessage holds a few short parameters; PostgreSQL itself refuses ones over 10,000 bytes.
const maxStartupBytes = 10_000;
const maxPasswordBytes = 1024;
// A client that neither finishes the handshake nor leaves is cut off, as authentication_timeout does.
const handshakeTimeoutMs = 10_000;

export interface GuardOptions {
  /** Where pglite-socket listens (127.0.0.1). */
  upstreamPort: number;
  user: string;
  password: string;
  /** Connections piped to PGlite at once; more wait in line (pglite-socket refuses above its limit). */
  maxUpstream: number;
  /** Longest wait in that line before the client gets an error. */
  queueTimeoutMs?: number;
}

export interface PostgresGuard {
  port: number;
  readonly protected: boolean;
  setProtected(value: boolean): void;
  /** Connections answered so far, by outcome (for the story's numbers). */
  readonly counts: { refused: number; piped: number };
  stop(): Promise<void>;
}

/** ErrorResponse (Byte1 'E', Int32 length, then (Byte1 field, String)* and a final zero). */
export function errorResponse(code: string, message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`, 'utf8');
  const head = Buffer.alloc(5);
  head.write('E', 0, 'latin1');
  head.writeUInt32BE(4 + fields.length, 1);
  return Buffer.concat([head, fields]);
}

/** AuthenticationMD5Password: 'R', length 12, code 5, a 4-byte salt. */
function md5Request(salt: Buffer): Buffer {
  const message = Buffer.alloc(13);
  message.write('R', 0, 'latin1');
  message.writeUInt32BE(12, 1);
  message.writeUInt32BE(5, 5);
  salt.copy(message, 9);
  return message;
}

/** What an MD5 PasswordMessage must hold: "md5" + md5(md5(password + user) + salt), in hex. */
export function md5Password(user: string, password: string, salt: Buffer): string {
  const inner = createHash('md5')
    .update(password + user)
    .digest('hex');
  return `md5${createHash('md5')
    .update(Buffer.concat([Buffer.from(inner, 'utf8'), salt]))
    .digest('hex')}`;
}

function startupParameters(body: Buffer): Map<string, string> {
  const parts = body.toString('utf8').split('\0');
  const params = new Map<string, string>();
  for (let i = 0; i + 1 < parts.length && parts[i] !== ''; i += 2)
    params.set(parts[i] ?? '', parts[i + 1] ?? '');
  return params;
}

/** Reads from a socket in whole frames, with a cap, until the caller has what it needs. */
class FrameReader {
  private buffer = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private ended = false;

  constructor(private readonly socket: Socket) {
    socket.on('data', this.onData);
    socket.once('close', this.onEnd);
    socket.once('error', this.onEnd);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    if (this.buffer.length > maxStartupBytes + maxPasswordBytes) this.socket.destroy();
    this.wake?.();
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    this.wake?.();
  };

  /** The next `n` bytes, or undefined once the peer is gone. */
  async take(n: number): Promise<Buffer | undefined> {
    while (this.buffer.length < n) {
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
    const out = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    return out;
  }

  /** Stops listening and returns what arrived beyond the frames taken (pipelined bytes). */
  detach(): Buffer {
    this.socket.off('data', this.onData);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onEnd);
    // Without a 'data' listener a flowing socket drops what arrives; pipe() resumes it later.
    this.socket.pause();
    return this.buffer;
  }
}

/** A line of connections waiting for one of `limit` upstream slots, bounded in time. */
class Slots {
  private used = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async acquire(timeoutMs: number): Promise<boolean> {
    if (this.used < this.limit) {
      this.used++;
      return true;
    }
    return new Promise<boolean>((resolve) => {
      const grant = (): void => {
        clearTimeout(timer);
        this.used++;
        resolve(true);
      };
      const timer = setTimeout(() => {
        const at = this.waiting.indexOf(grant);
        if (at >= 0) this.waiting.splice(at, 1);
        resolve(false);
      }, timeoutMs);
      this.waiting.push(grant);
    });
  }

  release(): void {
    this.used--;
    this.waiting.shift()?.();
  }
}

/** Starts the guard on a free 127.0.0.1 port, protected. */
export async function startPostgresGuard(options: GuardOptions): Promise<PostgresGuard> {
  let isProtected = true;
  const counts = { refused: 0, piped: 0 };
  const slots = new Slots(options.maxUpstream);
  const sockets = new Set<Socket>();
  const queueTimeoutMs = options.queueTimeoutMs ?? 60_000;

  const pipeUpstream = async (client: Socket, startup: Buffer, rest: Buffer): Promise<void> => {
    if (!(await slots.acquire(queueTimeoutMs))) {
      client.end(errorResponse('53300', 'sorry, too many clients already'));
      return;
    }
    const upstream = createConnection({ host: '127.0.0.1', port: options.upstreamPort });
    sockets.add(upstream);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      sockets.delete(upstream);
      // pglite-socket forgets a handler on the next tick after its socket closes.
      setImmediate(() => {
        slots.release();
      });
    };
    upstream.once('close', () => {
      release();
      client.destroy();
    });
    upstream.once('error', () => client.destroy());
    client.once('close', () => upstream.destroy());
    client.once('error', () => upstream.destroy());
    upstream.once('connect', () => {
      counts.piped++;
      upstream.write(startup);
      if (rest.length > 0) upstream.write(rest);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  };

  const handle = async (client: Socket): Promise<void> => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    const timer = setTimeout(() => client.destroy(), handshakeTimeoutMs);
    const reader = new FrameReader(client);
    try {
      // Up to two encryption requests (SSL, then GSS or the other way round) precede the startup.
      for (let attempt = 0; attempt < 3; attempt++) {
        const head = await reader.take(8);
        if (head === undefined) return;
        const length = head.readUInt32BE(0);
        const code = head.readUInt32BE(4);
        if (length === 8 && (code === sslRequestCode || code === gssEncRequestCode)) {
          client.write('N'); // not supported: the client continues in plain text or gives up
          continue;
        }
        if (code === cancelRequestCode) {
          client.destroy();
          return;
        }
        if (code !== protocolVersion || length < 8 || length > maxStartupBytes) {
          client.end(errorResponse('08P01', 'invalid startup packet layout'));
          return;
        }
        const body = await reader.take(length - 8);
        if (body === undefined) return;
        const startup = Buffer.concat([head, body]);
        const user = startupParameters(body).get('user') ?? '';
        if (!isProtected) {
          clearTimeout(timer);
          await pipeUpstream(client, startup, reader.detach());
          return;
        }
        const salt = randomBytes(4);
        client.write(md5Request(salt));
        const frame = await reader.take(5);
        if (frame === undefined) {
          counts.refused++;
          return;
        }
        const size = frame.readUInt32BE(1);
        if (String.fromCharCode(frame[0] ?? 0) !== 'p' || size < 5 || size > maxPasswordBytes) {
          counts.refused++;
          client.end(errorResponse('08P01', 'expected a password message'));
          return;
        }
        const given = await reader.take(size - 4);
        if (given === undefined) return;
        const text = given.toString('utf8').replace(/\0$/, '');
        if (user !== options.user || text !== md5Password(options.user, options.password, salt)) {
          counts.refused++;
          client.end(
            errorResponse('28P01', `password authentication failed for user "${user.slice(0, 63)}"`),
          );
          return;
        }
        // PGlite answers the replayed StartupMessage with AuthenticationOk, ParameterStatus… and
        // ReadyForQuery: exactly what the client expects after its password was accepted.
        clearTimeout(timer);
        await pipeUpstream(client, startup, reader.detach());
        return;
      }
      client.destroy();
    } finally {
      clearTimeout(timer);
    }
  };

  const server: Server = createServer((socket) => {
    handle(socket).catch(() => socket.destroy());
  });
  const port = await listenOnLoopback(server, 'guard');

  return {
    port,
    get protected() {
      return isProtected;
    },
    setProtected(value) {
      isProtected = value;
    },
    counts,
    stop() {
      return new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          resolve();
        });
      });
    },
  };
}
