/**
 * Benchmark (not a test): the "Am I affected?" lookup endpoint under `wrk` on loopback, against a
 * baseline measured in the same run: a minimal `node:http` hello server on the same machine.
 *
 *   npm run bench:lookup [-- --duration 20 --people 10000]
 *
 * The server runs as `leakwatch serve` would (its own node process) on a store holding one incident
 * with --people affected addresses; wrk (2 threads, 50 connections) POSTs valid forms (CSRF cookie,
 * token and Origin) cycling through 1,000 addresses of which 1 in 50 is affected, so links are
 * stored and mailed to a local SMTP sink during the run. Rate limits are raised for the run.
 * Goal (DESIGN.md): >= 5,000 requests/s with p99 < 20 ms. Needs `wrk` (apt-get install wrk).
 * Everything listens on 127.0.0.1 only.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseStoreLocation, Store } from '../src/store/store.js';
import { freePort } from '../test/servers/free-port.js';
import { startSmtpSink } from '../test/servers/smtp-sink.js';
import { seedIncident } from '../test/seed-incident.js';

const root = fileURLToPath(new URL('..', import.meta.url));
function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at > 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number`);
  return value;
}
const durationS = arg('duration', 20);
const peopleCount = arg('people', 10_000);
const addressCount = 1000;
const affectedEvery = 50;

interface WrkResult {
  requestsPerS: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: string;
}

function toMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (match === null) return NaN;
  const n = Number(match[1]);
  return match[2] === 'us' ? n / 1000 : match[2] === 'ms' ? n : match[2] === 's' ? n * 1000 : n * 60_000;
}

function runWrk(url: string, seconds: number, script?: string): WrkResult {
  const args = [
    '-t2',
    '-c50',
    `-d${seconds}s`,
    '--latency',
    ...(script === undefined ? [] : ['-s', script]),
    url,
  ];
  const run = spawnSync('wrk', args, { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
  if (run.status !== 0) throw new Error(`wrk failed: ${run.stderr}`);
  const out = run.stdout;
  const line = (re: RegExp): string => re.exec(out)?.[1] ?? '';
  return {
    requestsPerS: Number(line(/Requests\/sec:\s+([\d.]+)/)),
    p50Ms: toMs(line(/^\s+50%\s+(\S+)/m)),
    p99Ms: toMs(line(/^\s+99%\s+(\S+)/m)),
    non2xx: Number(line(/Non-2xx or 3xx responses: (\d+)/) || '0'),
    errors: line(/(Socket errors: .*)/),
  };
}

function waitForLine(child: ChildProcess, text: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => {
      reject(new Error(`no "${text}" within ${timeoutMs} ms: ${seen}`));
    }, timeoutMs);
    const onData = (d: Buffer): void => {
      seen += d.toString();
      if (seen.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}: ${seen}`));
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) {
      resolve();
      return;
    }
    child.once('exit', () => {
      resolve();
    });
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  });
}

async function main(): Promise<void> {
  if (spawnSync('wrk', ['--version'], { encoding: 'utf8' }).error !== undefined) {
    throw new Error('wrk is not installed (apt-get install wrk)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'lw-bench-lookup-'));
  const keyFile = join(dir, 'secret.key');
  process.env['LEAKWATCH_KEY_FILE'] = keyFile;
  const storeDir = join(dir, 'store');
  const sink = await startSmtpSink();
  const children: ChildProcess[] = [];
  try {
    process.stderr.write(`seeding an incident with ${peopleCount} people…\n`);
    const store = await Store.open(parseStoreLocation(storeDir), 'bench');
    try {
      const people = Array.from({ length: peopleCount }, (_, i) => ({
        email: `person${i}@example.com`,
        categories: i % 7 === 0 ? (['email', 'health_metric'] as const) : (['email', 'wifi_ssid'] as const),
      }));
      await seedIncident(
        store,
        'bench-copy',
        people.map((p) => ({ ...p, categories: [...p.categories] })),
      );
    } finally {
      await store.close();
    }

    // Baseline: the cheapest HTTP answer node can give, on the same machine, in the same run.
    const helloPort = await freePort();
    const hello = spawn(
      process.execPath,
      [
        '-e',
        `require('node:http').createServer((q,s)=>s.end('ok')).listen(${helloPort},'127.0.0.1',()=>console.log('ready'))`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(hello);
    await waitForLine(hello, 'ready', 10_000);
    process.stderr.write(`baseline: wrk against a node:http hello server for ${durationS} s…\n`);
    const baseline = runWrk(`http://127.0.0.1:${helloPort}/`, durationS);
    await stop(hello);

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const server = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'serve',
        '--listen',
        `127.0.0.1:${port}`,
        '--smtp',
        sink.url,
        '--from',
        'privacy@example.com',
        '--store',
        storeDir,
        '--lookups-per-minute',
        '100000000',
        '--mails-per-hour',
        '100000000',
      ],
      {
        cwd: root,
        env: { ...process.env, NO_COLOR: '1', LEAKWATCH_KEY_FILE: keyFile },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    children.push(server);
    await waitForLine(server, 'page on', 120_000);

    const page = await fetch(`${base}/`);
    const cookie = /^([^;]+)/.exec(page.headers.get('set-cookie') ?? '')?.[1] ?? '';
    const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
    const addresses = Array.from({ length: addressCount }, (_, i) =>
      i % affectedEvery === 0 ? `person${i}%40example.com` : `stranger${i}%40example.org`,
    );
    const script = join(dir, 'lookup.lua');
    writeFileSync(
      script,
      `local addrs = { ${addresses.map((a) => `"${a}"`).join(', ')} }
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "${cookie}"
wrk.headers["Origin"] = "${base}"
request = function()
  i = i + 1
  return wrk.format(nil, "/lookup", nil, "email=" .. addrs[(i % #addrs) + 1] .. "&csrf=${csrf}")
end
`,
    );
    process.stderr.write('lookup: warm-up 3 s…\n');
    runWrk(base, 3, script);
    const mailsBefore = sink.messages.length;
    process.stderr.write(`lookup: wrk POST /lookup for ${durationS} s…\n`);
    const lookup = runWrk(base, durationS, script);
    // Links still queued are stored and mailed after the run.
    await new Promise((r) => setTimeout(r, 3000));
    const mails = sink.messages.length - mailsBefore;
    await stop(server);

    const rows = [
      ['', 'requests/s', 'p50 ms', 'p99 ms', 'non-2xx'],
      [
        'node:http hello (baseline)',
        baseline.requestsPerS.toFixed(0),
        baseline.p50Ms.toFixed(2),
        baseline.p99Ms.toFixed(2),
        String(baseline.non2xx),
      ],
      [
        'POST /lookup',
        lookup.requestsPerS.toFixed(0),
        lookup.p50Ms.toFixed(2),
        lookup.p99Ms.toFixed(2),
        String(lookup.non2xx),
      ],
    ];
    process.stdout.write(
      `\nlookup endpoint, wrk -t2 -c50 -d${durationS}s on loopback, ${cpus().length} cores\n`,
    );
    for (const row of rows)
      process.stdout.write(
        `${row[0]?.padEnd(28)}${row
          .slice(1)
          .map((c) => c.padStart(12))
          .join('')}\n`,
      );
    process.stdout.write(
      `\nratio lookup/baseline: ${(lookup.requestsPerS / baseline.requestsPerS).toFixed(2)}x requests/s, ` +
        `${(lookup.p99Ms / baseline.p99Ms).toFixed(2)}x p99\n` +
        `links mailed during the run: ${mails} (1 in ${affectedEvery} lookups is affected)\n` +
        (lookup.errors === '' ? '' : `wrk: ${lookup.errors}\n`) +
        `goal >= 5,000 requests/s: ${lookup.requestsPerS >= 5000 ? 'met' : 'NOT met'}; ` +
        `p99 < 20 ms: ${lookup.p99Ms < 20 ? 'met' : 'NOT met'}; all answers 2xx: ${lookup.non2xx === 0 ? 'yes' : 'NO'}\n`,
    );
  } finally {
    for (const child of children) await stop(child);
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
