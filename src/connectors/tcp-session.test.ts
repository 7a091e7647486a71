import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LimitError, ProtocolError } from '../core/errors.js';
import { TcpSession, type FrameReader } from './tcp-session.js';

// One line ending in LF is a frame; enough to exercise the session without a real protocol.
const readLine: FrameReader = (buffer) => {
  const end = buffer.indexOf(0x0a);
  return end < 0 ? undefined : end + 1;
};

const servers: Server[] = [];
const sockets = new Set<Socket>();

async function serve(onConnection: (socket: Socket) => void): Promise<number> {
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('no port');
  return address.port;
}

afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

function open(port: number, signal: AbortSignal, maxBytes = 1024): Promise<TcpSession> {
  return TcpSession.open({ host: '127.0.0.1', port, signal, maxBytes });
}

describe('TcpSession', () => {
  it('sends a request and returns exactly one frame, keeping the rest for the next', async () => {
    const port = await serve((socket) => {
      socket.once('data', () => socket.write('one\ntwo\n'));
    });
    const session = await open(port, AbortSignal.timeout(2000));
    try {
      expect((await session.request('hello\n', readLine)).toString()).toBe('one\n');
      expect((await session.request(undefined, readLine)).toString()).toBe('two\n');
    } finally {
      session.close();
    }
  });

  it('throws LimitError when an answer outgrows maxBytes before it is complete', async () => {
    const port = await serve((socket) => {
      // Several writes, so the cap is hit by accumulation, not by one oversized chunk.
      for (let i = 0; i < 8; i++) socket.write(Buffer.alloc(512, 0x41));
    });
    const session = await open(port, AbortSignal.timeout(2000), 2048);
    try {
      await expect(session.request(undefined, readLine)).rejects.toThrow(LimitError);
      await expect(session.request(undefined, readLine)).rejects.toThrow(/larger than 2048 bytes/);
    } finally {
      session.close();
    }
  });

  it('accepts a frame of exactly maxBytes', async () => {
    const port = await serve((socket) => socket.write(`${'a'.repeat(1023)}\n`));
    const session = await open(port, AbortSignal.timeout(2000), 1024);
    try {
      expect((await session.request(undefined, readLine)).length).toBe(1024);
    } finally {
      session.close();
    }
  });

  it('ends a wait on a silent peer when the signal aborts, with its reason', async () => {
    const port = await serve(() => undefined);
    const controller = new AbortController();
    const session = await open(port, controller.signal);
    const started = performance.now();
    setTimeout(() => {
      controller.abort(new Error('time is up'));
    }, 100);
    try {
      await expect(session.request('ping\n', readLine)).rejects.toThrow('time is up');
      expect(performance.now() - started).toBeLessThan(1000);
    } finally {
      session.close();
    }
  });

  it('ends a wait with the timeout signal as TimeoutError', async () => {
    const port = await serve(() => undefined);
    const session = await open(port, AbortSignal.timeout(150));
    try {
      await expect(session.request('ping\n', readLine)).rejects.toMatchObject({ name: 'TimeoutError' });
    } finally {
      session.close();
    }
  });

  it('refuses to open with an aborted signal', async () => {
    const port = await serve(() => undefined);
    await expect(open(port, AbortSignal.abort())).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('reports a peer that closes before a complete frame as ECONNRESET', async () => {
    const port = await serve((socket) => socket.end('partial'));
    const session = await open(port, AbortSignal.timeout(2000));
    try {
      await expect(session.request(undefined, readLine)).rejects.toMatchObject({ code: 'ECONNRESET' });
    } finally {
      session.close();
    }
  });

  it('passes a ProtocolError from the frame reader to the caller', async () => {
    const port = await serve((socket) => socket.write('x'));
    const session = await open(port, AbortSignal.timeout(2000));
    const reader: FrameReader = () => {
      throw new ProtocolError('not this protocol');
    };
    try {
      await expect(session.request(undefined, reader)).rejects.toThrow(ProtocolError);
    } finally {
      session.close();
    }
  });
});
