import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Store } from '../store/store.js';
import { storeHistory, storeStatuses } from '../watch/status-view.js';

export interface StatusApi {
  url: string;
  token: string;
  close(): Promise<void>;
}

/**
 * While `watch` holds the embedded store, no other process may open it; `status` and `history`
 * ask this loopback API instead (its URL and token are in the lock file, readable by the owner
 * only). Read-only: status and one store's history, as JSON.
 */
export async function startStatusApi(store: Store): Promise<StatusApi> {
  const token = randomBytes(24).toString('base64url');
  const expected = Buffer.from(`Bearer ${token}`);
  const server = createServer((request, response) => {
    const given = Buffer.from(request.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      response.writeHead(401).end();
      return;
    }
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const answer = async (): Promise<void> => {
      if (url.pathname === '/api/status') {
        reply(200, await storeStatuses(store));
        return;
      }
      if (url.pathname === '/api/history') {
        const history = await storeHistory(store, url.searchParams.get('store') ?? '');
        if (history === undefined) reply(404, { error: 'no such store' });
        else reply(200, history);
        return;
      }
      reply(404, { error: 'not found' });
    };
    answer().catch((error: unknown) => {
      reply(500, { error: error instanceof Error ? error.message : String(error) });
    });
  });
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
