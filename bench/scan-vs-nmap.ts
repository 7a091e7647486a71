/**
 * Benchmark (not a test): the same set of private loopback services scanned by leakwatch and by
 * `nmap -sV` with its info scripts, in one run, alternating, several rounds. Prints the wall-time
 * ratio (nmap / leakwatch, medians) and a table of what each reports per service.
 *
 *   npm run bench:scan [-- --rounds 3]
 *
 * Everything listens on 127.0.0.1 only. nmap comes from Debian's packages (`apt-get install nmap`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeElasticsearch } from '../test/servers/fake-elasticsearch.js';
import { freePort } from '../test/servers/free-port.js';
import { startMariadb } from '../test/servers/mariadb-server.js';
import { startMosquitto } from '../test/servers/mosquitto-server.js';
import { startPostgres } from '../test/servers/postgres-server.js';
import { startPythonHttpServer } from '../test/servers/python-http-server.js';
import { startRedis } from '../test/servers/redis-server.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const roundsArg = process.argv.indexOf('--rounds');
const rounds = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 3;

interface Service {
  port: number;
  kind: string;
  /** What is true of it: open, protected, or no data store at all; and how many records were seeded. */
  truth: { open: boolean; records?: number; store?: false };
  stop(): Promise<void>;
}

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

async function startServices(services: Service[]): Promise<void> {
  const add = (kind: string, truth: Service['truth'], s: { port: number; stop(): Promise<void> }): void => {
    services.push({ port: s.port, kind, truth, stop: () => s.stop() });
  };
  for (const keys of [0, 100, 1000, 25]) {
    const redis = await startRedis();
    if (keys > 0) {
      const args = Array.from({ length: keys }, (_, i) => [`user:${i}`, `v${i}`]).flat();
      await redis.cli('MSET', ...args);
    }
    add('redis', { open: true, records: keys }, redis);
  }
  for (let i = 0; i < 2; i++)
    add('redis', { open: false }, await startRedis(['--requirepass', `pw-${i}-x9`]));
  for (const rows of [50, 300]) {
    const pg = await startPostgres({ auth: 'trust' });
    await pg.psql(
      `CREATE TABLE users AS SELECT g AS id, 'u' || g AS name FROM generate_series(1, ${rows}) g`,
    );
    add('postgres', { open: true, records: rows }, pg);
  }
  add(
    'postgres',
    { open: false },
    await startPostgres({ auth: 'scram-sha-256', password: 'bench-Secret-1' }),
  );
  for (const rows of [40, 7]) {
    const db = await startMariadb();
    await db.query('CREATE DATABASE shop');
    await db.query('CREATE TABLE shop.orders (id INT PRIMARY KEY)');
    await db.query(`INSERT INTO shop.orders SELECT seq FROM shop.seq_1_to_${rows}`);
    add('mariadb', { open: true, records: rows }, db);
  }
  add('mariadb', { open: false }, await startMariadb({ rootPassword: 'bench-Secret-2' }));
  for (const topics of [3, 5]) {
    const broker = await startMosquitto({ anonymous: true });
    for (let t = 0; t < topics; t++)
      await broker.publish(`home/device${t}/state`, '{"on":true}', { retain: true });
    add('mqtt', { open: true, records: topics }, broker);
  }
  add('mqtt', { open: false }, await startMosquitto({ anonymous: false, users: { app: 'bench-Secret-3' } }));
  const docs = (n: number): object[] =>
    Array.from({ length: n }, (_, i) => ({ id: i, metric: 'activation' }));
  add(
    'elasticsearch',
    { open: true, records: 120 },
    await startFakeElasticsearch({ indices: { events: docs(100), devices: docs(20) } }),
  );
  add(
    'elasticsearch',
    { open: true, records: 10 },
    await startFakeElasticsearch({ indices: { logs: docs(10) } }),
  );
  add(
    'elasticsearch',
    { open: false },
    await startFakeElasticsearch({
      indices: { users: docs(5) },
      auth: { user: 'elastic', password: 'bench-Secret-4' },
    }),
  );
  for (const files of [2, 4]) {
    const dir = mkdtempSync(join(tmpdir(), 'lw-bench-http-'));
    for (let f = 0; f < files; f++) writeFileSync(join(dir, `export-${f}.csv`), 'email,name\n'.repeat(10));
    const http = await startPythonHttpServer(dir);
    add(
      'http-listing',
      { open: true, records: files },
      {
        port: http.port,
        stop: async () => {
          await http.stop();
          rmSync(dir, { recursive: true, force: true });
        },
      },
    );
  }
  const page = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end('<html><head><title>Welcome</title></head><body>Hello</body></html>');
  });
  const pagePort = await freePort();
  await new Promise<void>((resolve) => page.listen(pagePort, '127.0.0.1', resolve));
  add(
    'http-page',
    { open: false, store: false },
    {
      port: pagePort,
      stop: () =>
        new Promise<void>((resolve) => {
          page.close(() => {
            resolve();
          });
        }),
    },
  );
}

function timeCommand(command: string, args: string[]): Promise<{ ms: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'ignore'], timeout: 600_000 });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', reject);
    child.on('close', () => {
      resolve({ ms: performance.now() - started, stdout });
    });
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

interface NmapPort {
  service: string;
  version: string;
  scripts: Map<string, string>;
}

// nmap's XML output (https://nmap.org/book/output-formats-xml-output.html), read just enough.
function parseNmapXml(xml: string): Map<number, NmapPort> {
  const ports = new Map<number, NmapPort>();
  const unescape = (s: string): string =>
    s
      .replace(/&#xa;/g, '\n')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&');
  for (const block of xml.split('<port ').slice(1)) {
    const port = Number(/portid="(\d+)"/.exec(block)?.[1]);
    const attr = (name: string): string =>
      /<service [^>]*/.exec(block)?.[0].match(new RegExp(`${name}="([^"]*)"`))?.[1] ?? '';
    const scripts = new Map<string, string>();
    for (const m of block.matchAll(/<script id="([^"]+)" output="([^"]*)"/g))
      scripts.set(m[1] ?? '', unescape(m[2] ?? ''));
    ports.set(port, {
      service: attr('name'),
      version: `${attr('product')} ${attr('version')}`.trim(),
      scripts,
    });
  }
  return ports;
}

/** What nmap's output says about access: open, protected or unknown, and any size it gives. */
function nmapVerdict(port: NmapPort | undefined): { verdict: string; size: string; scripts: string } {
  if (!port) return { verdict: '—', size: '—', scripts: '' };
  const out = [...port.scripts]
    .map(([id, text]) => `${id}: ${text.replace(/\s+/g, ' ').trim().slice(0, 60)}`)
    .join('; ');
  const all = [...port.scripts.values()].join('\n');
  // Credit nmap only where one of its scripts says so: a version banner alone is not access.
  const script = (id: string): string => port.scripts.get(id) ?? '';
  let verdict = 'unknown';
  if (/Authentication required|NOAUTH|not authorized|Connection Refused|401 Unauthori/i.test(all))
    verdict = 'protected';
  if (
    /Version:/.test(script('redis-info')) ||
    /empty password/.test(script('mysql-empty-password')) ||
    /Topics and their most recent payloads|\//.test(script('mqtt-subscribe')) ||
    /Volume|Directory/.test(script('http-ls')) ||
    /Directory listing for|Index of/.test(script('http-title'))
  ) {
    verdict = 'open';
  }
  const sizeMatch = /keys=(\d+)/.exec(all);
  return { verdict, size: sizeMatch?.[1] ?? '—', scripts: out };
}

async function main(): Promise<void> {
  if (spawnSync('nmap', ['--version']).status !== 0) {
    log('nmap is not installed: apt-get install -y nmap');
    process.exitCode = 2;
    return;
  }
  if (!existsSync(join(root, 'dist/cli/main.js')))
    spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root });
  log('starting services…');
  // Filled as they start, so a failure half-way still stops the ones already running.
  const services: Service[] = [];
  try {
    await startServices(services);
    log(`${services.length} services on 127.0.0.1`);
    const ports = services.map((s) => s.port);
    const leakwatchArgs = [
      'dist/cli/main.js',
      'scan',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '-f',
      'json',
      '-q',
      '--fail-on',
      'none',
    ];
    const nmapArgs = [
      '-sV',
      '-Pn',
      '-n',
      '-p',
      ports.join(','),
      '--script',
      'redis-info,mysql-info,mysql-empty-password,mqtt-subscribe,http-ls,http-title,http-server-header',
      '-oX',
      '-',
      '127.0.0.1',
    ];
    const times = { leakwatch: [] as number[], nmap: [] as number[] };
    let leakwatchOut = '';
    let nmapOut = '';
    for (let round = 0; round < rounds; round++) {
      const lw = await timeCommand(process.execPath, leakwatchArgs);
      times.leakwatch.push(lw.ms);
      leakwatchOut = lw.stdout;
      const nm = await timeCommand('nmap', nmapArgs);
      times.nmap.push(nm.ms);
      nmapOut = nm.stdout;
      log(
        `round ${round + 1}/${rounds}: leakwatch ${(lw.ms / 1000).toFixed(2)} s, nmap ${(nm.ms / 1000).toFixed(2)} s`,
      );
    }
    const report = JSON.parse(leakwatchOut) as {
      targets: {
        target: string;
        protocol: string;
        status: string;
        server?: { product: string; version?: string };
        size?: { records?: number; approximate?: boolean };
      }[];
    };
    const nmap = parseNmapXml(nmapOut);
    const rows: string[] = [];
    let lwRight = 0;
    let nmRight = 0;
    let lwVersions = 0;
    let nmVersions = 0;
    let lwSizes = 0;
    for (const service of services) {
      const lw = report.targets.find((t) => t.target === `127.0.0.1:${service.port}`);
      const nm = nmap.get(service.port);
      const nv = nmapVerdict(nm);
      const truth = service.truth.store === false ? 'no store' : service.truth.open ? 'open' : 'protected';
      const lwVerdict =
        lw?.status === 'open' ? 'open' : lw?.status === 'auth-required' ? 'protected' : (lw?.status ?? '—');
      // A web page without data is answered right by anything that does not call it open.
      const right = (verdict: string): boolean =>
        truth === 'no store' ? verdict !== 'open' : verdict === truth;
      if (right(lwVerdict)) lwRight++;
      if (right(nv.verdict)) nmRight++;
      if (lw?.server?.version) lwVersions++;
      if (nm && /\d/.test(nm.version)) nmVersions++;
      if (lw?.size?.records !== undefined) lwSizes++;
      rows.push(
        `| ${service.port} | ${service.kind} | ${truth}${service.truth.records === undefined ? '' : ` (${service.truth.records})`} | ` +
          `${lw?.protocol ?? '—'} ${lwVerdict} | ${lw?.server ? `${lw.server.product} ${lw.server.version ?? ''}` : '—'} | ${lw?.size?.records ?? '—'}${lw?.size?.approximate ? '~' : ''} | ` +
          `${nm?.service ?? '—'} ${nv.verdict} | ${nm?.version || '—'} | ${nv.size} |`,
      );
    }
    const lwMedian = median(times.leakwatch);
    const nmMedian = median(times.nmap);
    const summary = {
      services: services.length,
      rounds,
      leakwatchMedianMs: Math.round(lwMedian),
      nmapMedianMs: Math.round(nmMedian),
      speedup: Number((nmMedian / lwMedian).toFixed(1)),
      correctVerdicts: { leakwatch: lwRight, nmap: nmRight },
      versions: { leakwatch: lwVersions, nmap: nmVersions },
      sizes: { leakwatch: lwSizes, nmap: 0 },
      times,
    };
    const markdown = [
      `Scan of ${services.length} loopback services, median of ${rounds} alternating rounds:`,
      `leakwatch ${(lwMedian / 1000).toFixed(2)} s, nmap -sV + info scripts ${(nmMedian / 1000).toFixed(2)} s: ` +
        `**leakwatch ${summary.speedup}x faster** (ratio nmap/leakwatch).`,
      '',
      `| | leakwatch | nmap |`,
      `| --- | ---: | ---: |`,
      `| open / protected / not-a-store verdict right | ${lwRight}/${services.length} | ${nmRight}/${services.length} |`,
      `| server version reported | ${lwVersions}/${services.length} | ${nmVersions}/${services.length} |`,
      `| size (records) reported | ${lwSizes}/${services.length} | 0/${services.length} |`,
      '',
      '| port | service | truth (records) | leakwatch verdict | leakwatch server | leakwatch records | nmap verdict | nmap version | nmap size |',
      '| --- | --- | --- | --- | --- | ---: | --- | --- | ---: |',
      ...rows,
    ].join('\n');
    process.stdout.write(`${markdown}\n`);
    mkdirSync(join(root, 'bench/results'), { recursive: true });
    writeFileSync(join(root, 'bench/results/scan-vs-nmap.json'), JSON.stringify(summary, null, 2));
    writeFileSync(
      join(root, 'bench/results/scan-vs-nmap.md'),
      `${markdown}\n\nnmap script output:\n${[...nmap].map(([p, n]) => `- ${p}: ${nmapVerdict(n).scripts}`).join('\n')}\n`,
    );
  } finally {
    await Promise.all(services.map((s) => s.stop().catch(() => undefined)));
  }
}

await main();
