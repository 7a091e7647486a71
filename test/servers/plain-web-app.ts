import { createServer } from 'node:http';

export interface PlainWebApp {
  port: number;
  stop(): Promise<void>;
}

/**
 * Some other web application on 127.0.0.1: answers every request with the same body. HTTP-based
 * connectors must call it `other-protocol` without naming a server, so the right one wins a port.
 */
export async function startPlainWebApp(contentType: string, body: string): Promise<PlainWebApp> {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', contentType);
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: address !== null && typeof address === 'object' ? address.port : 0,
    stop: () => {
      server.closeAllConnections();
      return new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}
