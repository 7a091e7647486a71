import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';

/** A misbehaving server on a free 127.0.0.1 port; `stop` destroys every socket it accepted. */
export interface HostileServer {
  name: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Listens on a free loopback port and keeps every accepted socket, so `stop` can destroy them:
 * a server that never answers would otherwise keep vitest from exiting.
 */
async function listenTracked(name: string, server: Server): Promise<HostileServer> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    // A scanner that gives up resets the connection; that is the expected end, not a test failure.
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error(`${name}: no port`);
  return {
    name,
    port: address.port,
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

/** Accepts and never says a word: the timeout is the only way out. */
export function startSilentServer(): Promise<HostileServer> {
  return listenTracked('silent', createServer());
}

// Writes `next()` until the peer goes away, waiting for `drain` so the server itself stays bounded
// while the client gets bytes as fast as the loopback can carry them.
function pump(out: Socket | ServerResponse, next: () => Buffer): void {
  let closed = false;
  out.on('close', () => {
    closed = true;
  });
  const write = (): void => {
    while (!closed && !out.destroyed && out.write(next()));
  };
  out.on('drain', write);
  write();
}

/** Streams random bytes forever, as fast as the client reads them. */
export function startRandomStreamServer(): Promise<HostileServer> {
  // A few pre-drawn blocks: fresh randomness per chunk would make the test CPU-bound on the server.
  const blocks = Array.from({ length: 8 }, () => randomBytes(64 * 1024));
  let turn = 0;
  return listenTracked(
    'random-stream',
    createServer((socket) => {
      pump(socket, () => blocks[turn++ % blocks.length]!);
    }),
  );
}

/** Greets like OpenSSH (RFC 4253 §4.2 identification string), then stays silent. */
export function startSshBannerServer(): Promise<HostileServer> {
  return listenTracked(
    'ssh-banner',
    createServer((socket) => {
      socket.write('SSH-2.0-OpenSSH_9.2p1\r\n');
    }),
  );
}

/** Greets like an SMTP server (RFC 5321 §4.2) and rejects every line it receives. */
export function startSmtpBannerServer(): Promise<HostileServer> {
  return listenTracked(
    'smtp-banner',
    createServer((socket) => {
      socket.write('220 mail ESMTP\r\n');
      socket.on('data', () => {
        if (!socket.destroyed) socket.write('502 5.5.2 Error: command not recognized\r\n');
      });
    }),
  );
}

/**
 * Answers every path with a truncated JSON object labelled `application/json`: the start of an
 * Elasticsearch `GET /` answer that never closes.
 */
export function startMalformedJsonServer(): Promise<HostileServer> {
  return listenTracked(
    'malformed-json',
    createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"name": "x", "version": {');
    }),
  );
}

/** Answers every path with 200 and a chunked JSON-looking body that never ends. */
export function startEndlessBodyServer(): Promise<HostileServer> {
  const block = Buffer.from(`{"hits":[${'{"email":"a@example.test"},'.repeat(2000)}`);
  return listenTracked(
    'endless-body',
    createHttpServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      // Node drops body writes on a HEAD answer and reports them all as flushed: pumping would spin.
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      pump(res, () => block);
    }),
  );
}
