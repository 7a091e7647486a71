import type { Server, Socket } from 'node:net';

/** Listens on a free port of 127.0.0.1, the only address the demo ever binds, and returns the port. */
export async function listenOnLoopback(server: Server, what: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error(`${what}: no listening address`);
  return address.port;
}

/**
 * Remembers the server's open connections and returns its stop: `close()` alone would wait for
 * clients that keep their connections alive.
 */
export function stopWithConnections(server: Server): () => Promise<void> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => {
        resolve();
      });
    });
}
