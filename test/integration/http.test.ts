import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TargetReport } from '../../src/core/scan-report.js';
import { runScan } from '../../src/scan/run-scan.js';
import { startPythonHttpServer, type PrivateHttpServer } from '../servers/python-http-server.js';

interface TestServer {
  port: number;
  requests: { method: string; url: string }[];
  close(): Promise<void>;
}

function listen(server: Server | TcpServer, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      if (address !== null && typeof address === 'object') resolve(address.port);
      else reject(new Error('no port'));
    });
  });
}

function closeServer(server: Server | TcpServer): Promise<void> {
  if ('closeAllConnections' in server) server.closeAllConnections();
  return new Promise((resolve) => {
    server.close(() => {
      resolve();
    });
  });
}

// Every node server of this file, closed in afterAll even when beforeAll stopped half-way.
const started: TestServer[] = [];

async function startNode(handler: RequestListener, tls?: { key: Buffer; cert: Buffer }): Promise<TestServer> {
  const requests: TestServer['requests'] = [];
  const listener: RequestListener = (req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '' });
    res.on('error', () => undefined);
    handler(req, res);
  };
  const server = tls === undefined ? createHttpServer(listener) : createHttpsServer(tls, listener);
  const port = await listen(server);
  const handle = { port, requests, close: () => closeServer(server) };
  started.push(handle);
  return handle;
}

async function scanOne(target: string, timeoutMs = 5000): Promise<TargetReport> {
  const report = await runScan({ targets: [target], timeoutMs });
  const [only] = report.targets;
  if (only === undefined) throw new Error('no target in report');
  return only;
}

// ngx_http_autoindex_module's HTML: <pre>, link, name padded to 50 columns, date, size (bytes).
function nginxRow(href: string, text: string, size: string): string {
  return `<a href="${href}">${text}</a>${' '.repeat(Math.max(1, 51 - text.length))}21-Nov-2026 10:00${' '.repeat(20 - size.length)}${size}\r\n`;
}
function nginxPage(path: string, rows: string): string {
  return (
    `<html>\r\n<head><title>Index of ${path}</title></head>\r\n<body>\r\n<h1>Index of ${path}</h1><hr><pre>` +
    `<a href="../">../</a>\r\n${rows}</pre><hr></body>\r\n</html>\r\n`
  );
}

const nginxListing = nginxPage(
  '/',
  nginxRow('sub/', 'sub/', '-') +
    nginxRow('a%26b.csv', 'a&amp;b.csv', '100') +
    nginxRow('backup.sql', 'backup.sql', '123456') +
    // A terminal escape in a file name: nginx escapes the href, not the text.
    nginxRow('%1B%5B2Jevil.json', '\x1b[2Jevil.json', '2048') +
    nginxRow('notes.txt', 'notes.txt', '10'),
);

// mod_autoindex with HTMLTable (Apache 2.4's default on Debian): human sizes from apr_strfsize.
const apacheListing = `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">
<html>
 <head>
  <title>Index of /</title>
 </head>
 <body>
<h1>Index of /</h1>
  <table>
   <tr><th valign="top"><img src="/icons/blank.gif" alt="[ICO]"></th><th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th><th><a href="?C=S;O=A">Size</a></th><th><a href="?C=D;O=A">Description</a></th></tr>
   <tr><th colspan="5"><hr></th></tr>
<tr><td valign="top"><img src="/icons/text.gif" alt="[TXT]"></td><td><a href="customers.csv">customers.csv</a></td><td align="right">2026-11-21 10:00  </td><td align="right">121K</td><td>&nbsp;</td></tr>
<tr><td valign="top"><img src="/icons/compressed.gif" alt="[   ]"></td><td><a href="db.tar.gz">db.tar.gz</a></td><td align="right">2026-11-21 10:00  </td><td align="right">1.2M</td><td>&nbsp;</td></tr>
<tr><td valign="top"><img src="/icons/folder.gif" alt="[DIR]"></td><td><a href="old/">old/</a></td><td align="right">2026-11-21 10:00  </td><td align="right">  - </td><td>&nbsp;</td></tr>
<tr><td valign="top"><img src="/icons/text.gif" alt="[TXT]"></td><td><a href="readme.txt">readme.txt</a></td><td align="right">2026-11-21 10:00  </td><td align="right">512 </td><td>&nbsp;</td></tr>
   <tr><th colspan="5"><hr></th></tr>
</table>
<address>Apache/2.4.57 (Debian) Server at 127.0.0.1 Port 80</address>
</body></html>
`;

// nginx `autoindex_format json`.
const jsonListing = `[
{ "name":"orders.ndjson", "type":"file", "mtime":"Sat, 21 Nov 2026 10:00:00 GMT", "size":4096 },
{ "name":"img", "type":"directory", "mtime":"Sat, 21 Nov 2026 10:00:00 GMT" },
{ "name":"logo.png", "type":"file", "mtime":"Sat, 21 Nov 2026 10:00:00 GMT", "size":777 }
]
`;

const envText = 'DB_PASSWORD=hunter2\nAPI_TOKEN=abc\n';
const sqlText = '-- MySQL dump 10.13  Distrib 8.0\nCREATE TABLE users (id int);\n';
const usersJson = JSON.stringify([{ email: 'a@example.com' }, { email: 'b@example.com' }]);

describe('http connector against real local HTTP servers', () => {
  const dirs: string[] = [];
  let python: PrivateHttpServer | undefined;
  let pythonBytes = 0;
  let pythonNames: string[] = [];
  let nginx: TestServer;
  let apache: TestServer;
  let files: TestServer;
  let basic: TestServer;
  let homepage: TestServer;
  let leaky: TestServer;
  let redirecting: TestServer;
  let tls: TestServer;
  let huge: TestServer;
  let outside: TcpServer | undefined;
  let outsidePort = 0;
  let outsideConnections = 0;
  let notHttp: TcpServer | undefined;
  let notHttpPort = 0;

  beforeAll(async () => {
    const served = mkdtempSync(join(tmpdir(), 'lw-http-'));
    dirs.push(served);
    writeFileSync(join(served, 'users.json'), usersJson);
    writeFileSync(join(served, 'export.csv'), 'email,name\na@example.com,A\nb@example.com,B\n');
    writeFileSync(join(served, 'dump.sql.gz'), gzipSync('-- MySQL dump 10.13\nCREATE TABLE t (id int);\n'));
    writeFileSync(join(served, 'notes.txt'), 'not data\n');
    writeFileSync(join(served, '\x1b[31mred.csv'), 'a,b\n1,2\n');
    mkdirSync(join(served, 'subdir'));
    writeFileSync(join(served, 'subdir', 'inner.csv'), 'x,y\n1,2\n');
    pythonNames = ['users.json', 'export.csv', 'dump.sql.gz', '\x1b[31mred.csv'];
    pythonBytes = pythonNames.reduce((sum, name) => sum + statSync(join(served, name)).size, 0);
    python = await startPythonHttpServer(served);

    nginx = await startNode((req, res) => {
      if (req.url === '/json/') {
        res.writeHead(200, { server: 'nginx/1.22.1', 'content-type': 'application/json' });
        res.end(jsonListing);
        return;
      }
      res.writeHead(200, { server: 'nginx/1.22.1', 'content-type': 'text/html' });
      res.end(nginxListing);
    });
    apache = await startNode((_req, res) => {
      res.writeHead(200, { server: 'Apache/2.4.57 (Debian)', 'content-type': 'text/html;charset=UTF-8' });
      res.end(apacheListing);
    });
    files = await startNode((req, res) => {
      if (req.url === '/export/users.json') {
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(usersJson),
        });
        res.end(req.method === 'HEAD' ? undefined : usersJson);
        return;
      }
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<h1>Not Found</h1>');
    });
    basic = await startNode((req, res) => {
      const expected = `Basic ${Buffer.from('reader:s3cret').toString('base64')}`;
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="backups"', server: 'nginx/1.22.1' });
        res.end('<h1>401 Authorization Required</h1>');
        return;
      }
      res.writeHead(200, { server: 'nginx/1.22.1', 'content-type': 'text/html' });
      res.end(nginxListing);
    });
    homepage = await startNode((req, res) => {
      if (req.url === '/') {
        res.writeHead(200, { server: 'nginx/1.22.1', 'content-type': 'text/html' });
        res.end(
          '<!doctype html><html><head><title>Welcome</title></head><body><a href="/about">About</a></body></html>',
        );
        return;
      }
      res.writeHead(404, { server: 'nginx/1.22.1', 'content-type': 'text/html' });
      res.end('<h1>404 Not Found</h1>');
    });
    leaky = await startNode((req, res) => {
      const body = req.url === '/.env' ? envText : req.url === '/backup.sql' ? sqlText : undefined;
      if (body === undefined) {
        res.writeHead(req.url === '/' ? 200 : 404, { 'content-type': 'text/html' });
        res.end(req.method === 'HEAD' ? undefined : '<html><body>It works!</body></html>');
        return;
      }
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': Buffer.byteLength(body),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    });

    outside = createTcpServer((socket) => {
      outsideConnections++;
      socket.destroy();
    });
    try {
      outsidePort = await listen(outside, '::1');
    } catch {
      // No IPv6 loopback here: the redirect is still refused by scope, only the listener is missing.
      outside = undefined;
      outsidePort = 9;
    }
    redirecting = await startNode((req, res) => {
      if (req.url === '/away') {
        res.writeHead(302, { location: `http://[::1]:${outsidePort}/` });
      } else if (req.url === '/loop') {
        res.writeHead(302, { location: '/loop' });
      } else if (req.url === '/') {
        res.writeHead(301, { location: '/files/' });
      } else if (req.url === '/files/') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(nginxPage('/files/', nginxRow('leads.csv', 'leads.csv', '5000')));
        return;
      } else {
        res.writeHead(404);
      }
      res.end();
    });

    const certDir = mkdtempSync(join(tmpdir(), 'lw-https-'));
    dirs.push(certDir);
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1'].concat([
        '-keyout',
        join(certDir, 'key.pem'),
        '-out',
        join(certDir, 'cert.pem'),
      ]),
      { stdio: 'ignore' },
    );
    tls = await startNode(
      (_req, res) => {
        res.writeHead(200, { server: 'nginx/1.24.0', 'content-type': 'text/html' });
        res.end(nginxListing);
      },
      { key: readFileSync(join(certDir, 'key.pem')), cert: readFileSync(join(certDir, 'cert.pem')) },
    );

    // A million-entry nginx listing, generated as the client reads (with backpressure).
    huge = await startNode((_req, res) => {
      res.writeHead(200, { server: 'nginx/1.22.1', 'content-type': 'text/html' });
      res.write('<html>\r\n<head><title>Index of /</title></head>\r\n<body>\r\n<h1>Index of /</h1><hr><pre>');
      let next = 0;
      const total = 1_000_000;
      const pump = (): void => {
        while (next < total) {
          let chunk = '';
          for (let i = 0; i < 1000 && next < total; i++, next++)
            chunk += nginxRow(`part-${next}.json`, `part-${next}.json`, '1000');
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end('</pre><hr></body>\r\n</html>\r\n');
      };
      res.on('close', () => {
        next = total + 1;
      });
      pump();
    });

    notHttp = createTcpServer((socket) => {
      socket.on('error', () => undefined);
      // Read what the client sends, so its FIN is seen and the connection closes.
      socket.resume();
      socket.end('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n');
    });
    notHttpPort = await listen(notHttp);
  });

  afterAll(async () => {
    await python?.stop();
    await Promise.all(started.map((s) => s.close()));
    if (outside !== undefined) await closeServer(outside);
    if (notHttp !== undefined) await closeServer(notHttp);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("reads Python http.server's listing: data files only, exact bytes from HEAD, names sanitised", async () => {
    const t = await scanOne(`http://127.0.0.1:${python?.port ?? 0}/`);
    expect(t.status).toBe('open');
    expect(t.server?.product).toBe('simplehttp');
    const expected = pythonNames.map((n) => `/${n.replace('\x1b', '').trim()}`).sort();
    expect(t.collections.map((c) => c.name).sort()).toEqual(expected);
    expect(t.size).toEqual({ collections: 4, records: 4, bytes: pythonBytes });
    expect(t.collections.find((c) => c.name === '/users.json')?.bytes).toBe(Buffer.byteLength(usersJson));
    expect(t.detail).toContain('6 entries');
    expect(JSON.stringify(t)).not.toMatch(/\\u001b/);
  });

  it('reads an nginx autoindex page: byte sizes, decoded and sanitised names, no escapes', async () => {
    const t = await scanOne(`http://127.0.0.1:${nginx.port}`);
    expect(t.status).toBe('open');
    expect(t.server).toEqual({ product: 'nginx', version: '1.22.1' });
    expect(t.collections).toEqual([
      { name: '/a&b.csv', bytes: 100 },
      { name: '/backup.sql', bytes: 123456 },
      { name: '/[2Jevil.json', bytes: 2048 },
    ]);
    expect(t.size).toEqual({ collections: 3, records: 3, bytes: 125604 });
    expect(t.detail).toContain('(nginx)');
    expect(JSON.stringify(t)).not.toMatch(/\\u001b/);
    // One GET: sizes were in the listing.
    expect(nginx.requests.filter((r) => r.url === '/')).toHaveLength(1);
  });

  it("reads nginx's JSON autoindex format", async () => {
    const t = await scanOne(`http://127.0.0.1:${nginx.port}/json/`);
    expect(t.status).toBe('open');
    expect(t.collections).toEqual([{ name: '/json/orders.ndjson', bytes: 4096 }]);
    expect(t.size).toEqual({ collections: 1, records: 1, bytes: 4096 });
  });

  it('reads an Apache mod_autoindex table with rounded sizes, marked approximate', async () => {
    const t = await scanOne(`http://127.0.0.1:${apache.port}/`);
    expect(t.status).toBe('open');
    expect(t.server).toEqual({ product: 'apache', version: '2.4.57' });
    expect(t.collections).toEqual([
      { name: '/customers.csv', bytes: 121 * 1024 },
      { name: '/db.tar.gz', bytes: Math.round(1.2 * 1024 * 1024) },
    ]);
    expect(t.size).toEqual({
      collections: 2,
      records: 2,
      bytes: 121 * 1024 + Math.round(1.2 * 1024 * 1024),
      approximate: true,
    });
    expect(t.detail).toContain('4 entries');
  });

  it('reports a JSON file served at the target path as open with one collection', async () => {
    const t = await scanOne(`http://127.0.0.1:${files.port}/export/users.json`);
    expect(t.status).toBe('open');
    expect(t.collections).toEqual([{ name: '/export/users.json', bytes: Buffer.byteLength(usersJson) }]);
    expect(t.size).toEqual({ collections: 1, records: 1, bytes: Buffer.byteLength(usersJson) });
  });

  it('reports 401 Basic as auth-required, and uses credentials only when the target names them', async () => {
    const locked = await scanOne(`http://127.0.0.1:${basic.port}/`);
    expect(locked.status).toBe('auth-required');
    expect(locked.detail).toContain('Basic');
    const named = await scanOne(`http://reader:s3cret@127.0.0.1:${basic.port}/`);
    expect(named.status).toBe('open');
    expect(named.detail).toContain('with the given credentials');
    expect(named.detail).not.toContain('s3cret');
    expect(named.size?.collections).toBe(3);
  });

  it('reports a plain homepage as other-protocol after a bounded check of well-known paths', async () => {
    const t = await scanOne(`http://127.0.0.1:${homepage.port}/`);
    expect(t.status).toBe('other-protocol');
    expect(t.detail).toBe('HTTP server with no directory listing or data file at / (HTTP 200)');
    expect(t.server).toEqual({ product: 'nginx', version: '1.22.1' });
    expect(homepage.requests.length).toBeLessThanOrEqual(8);
    expect(homepage.requests.every((r) => r.method === 'GET' || r.method === 'HEAD')).toBe(true);
  });

  it('finds a .env and a SQL dump at well-known paths of a plain homepage', async () => {
    const t = await scanOne(`http://127.0.0.1:${leaky.port}/`);
    expect(t.status).toBe('open');
    expect(t.collections).toEqual([
      { name: '/.env', bytes: Buffer.byteLength(envText) },
      { name: '/backup.sql', bytes: Buffer.byteLength(sqlText) },
    ]);
    expect(t.size).toEqual({
      collections: 2,
      records: 2,
      bytes: Buffer.byteLength(envText) + Buffer.byteLength(sqlText),
    });
    expect(leaky.requests.length).toBeLessThanOrEqual(8);
  });

  it('does not follow a redirect out of scope (no connection reaches it), follows one on the same host', async () => {
    const away = await scanOne(`http://127.0.0.1:${redirecting.port}/away`);
    expect(away.status).toBe('error');
    expect(away.detail).toMatch(/out of scope/);
    expect(away.detail).toContain('outside the scan');
    const away2 = await scanOne(`http://127.0.0.1:${redirecting.port}/away`);
    expect(away2.status).toBe('error');
    expect(outsideConnections).toBe(0);

    const followed = await scanOne(`http://127.0.0.1:${redirecting.port}/`);
    expect(followed.status).toBe('open');
    expect(followed.collections).toEqual([{ name: '/files/leads.csv', bytes: 5000 }]);

    const loop = await scanOne(`http://127.0.0.1:${redirecting.port}/loop`);
    expect(loop.status).toBe('error');
    expect(loop.detail).toContain('more than 3 redirects');
  });

  it('reads a listing over HTTPS with a self-signed certificate', async () => {
    const t = await scanOne(`https://127.0.0.1:${tls.port}/`);
    expect(t.status).toBe('open');
    expect(t.server).toEqual({ product: 'nginx', version: '1.24.0' });
    expect(t.size).toEqual({ collections: 3, records: 3, bytes: 125604 });
  });

  it('reports https against a plain HTTP port, and http against a non-HTTP port, as other-protocol', async () => {
    const t = await scanOne(`https://127.0.0.1:${nginx.port}/`);
    expect(t.status).toBe('other-protocol');
    const ssh = await scanOne(`http://127.0.0.1:${notHttpPort}/`);
    expect(ssh.status).toBe('other-protocol');
    expect(ssh.detail).toMatch(/not HTTP \(HPE_/);
  });

  it('cuts a million-entry listing at the byte cap, in time and in bounded memory', async () => {
    const timeoutMs = 5000;
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 20);
    const started = performance.now();
    const t = await scanOne(`http://127.0.0.1:${huge.port}/`, timeoutMs);
    const elapsed = performance.now() - started;
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    expect(elapsed).toBeLessThan(timeoutMs + 1000);
    expect(t.status).toBe('open');
    expect(t.size?.approximate).toBe(true);
    const match = /listing truncated at (\d+) entries \(at least \1\)/.exec(t.detail);
    expect(match).not.toBeNull();
    const entries = Number(match?.[1]);
    // 8 MiB of ~90-byte rows.
    expect(entries).toBeGreaterThan(50_000);
    expect(entries).toBeLessThan(1_000_000);
    expect(t.size?.collections).toBe(entries);
    expect(t.size?.bytes).toBe(entries * 1000);
    expect(t.collections).toHaveLength(1000);
    expect(peakRss).toBeLessThan(300 * 1024 * 1024);
  });
});
