/**
 * The forgotten CSV export of the story: a node:http server on a free 127.0.0.1 port whose root is
 * an nginx-style autoindex page (ngx_http_autoindex_module: "Index of /", a <pre> of links, each
 * followed by date and size in bytes) listing devices.csv. Protected, every request gets 401 with a
 * Basic challenge unless it carries the demo's credentials.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback, stopWithConnections } from './loopback-server.js';

export interface CsvExportOptions {
  /** devices.csv of corpus/generate-dataset.ts. */
  devicesFile: string;
  user: string;
  password: string;
}

export interface CsvExportServer {
  port: number;
  readonly protected: boolean;
  setProtected(value: boolean): void;
  stop(): Promise<void>;
}

const fileName = 'devices.csv';

function nginxDate(date: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}-${months[date.getUTCMonth()] ?? ''}-${date.getUTCFullYear()} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}`;
}

function listing(bytes: number, modified: Date): string {
  const name = fileName.padEnd(51);
  return (
    '<html>\r\n<head><title>Index of /</title></head>\r\n<body>\r\n<h1>Index of /</h1><hr><pre>' +
    '<a href="../">../</a>\r\n' +
    `<a href="${fileName}">${fileName}</a>${name.slice(fileName.length)}${nginxDate(modified)}${String(bytes).padStart(20)}\r\n` +
    '</pre><hr></body>\r\n</html>\r\n'
  );
}

/** Starts the export server (protected). */
export async function startCsvExportServer(options: CsvExportOptions): Promise<CsvExportServer> {
  let isProtected = true;
  const expected = `Basic ${Buffer.from(`${options.user}:${options.password}`).toString('base64')}`;
  const stat = statSync(options.devicesFile);
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (isProtected && req.headers.authorization !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="exports"', 'content-type': 'text/plain' });
      res.end(head ? undefined : '401 Authorization Required\n');
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/') {
      const body = listing(stat.size, stat.mtime);
      res.writeHead(200, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(body) });
      res.end(head ? undefined : body);
      return;
    }
    if (path === `/${fileName}`) {
      res.writeHead(200, {
        'content-type': 'text/csv',
        'content-length': stat.size,
        'last-modified': stat.mtime.toUTCString(),
      });
      if (head) res.end();
      else createReadStream(options.devicesFile).pipe(res);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end(head ? undefined : '404 Not Found\n');
  };

  const server = createServer(handle);
  const stop = stopWithConnections(server);
  const port = await listenOnLoopback(server, 'export server');
  return {
    port,
    get protected() {
      return isProtected;
    },
    setProtected(value) {
      isProtected = value;
    },
    stop,
  };
}
