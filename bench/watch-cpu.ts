/**
 * Benchmark (not a test): the CPU cost of `leakwatch watch` keeping 1,000 loopback stores under watch
 * at its default interval (5 s), as percent of one core, and its memory. Baseline of the same run:
 * bench/watch-cpu-baseline.ts, a bare Node script doing the same probes (connect, PING, read the
 * -NOAUTH, close) and recording nothing: the floor of the work. The ratio says what probing through
 * the scanner, recording every observation in the state store and scheduling cost on top.
 *
 *   npm run bench:watch-cpu [-- --stores 1000 --seconds 60 | --quick]
 *
 * CPU is user+sys time of the one measured process from /proc/PID/stat over the window, after a
 * warm-up in which every store was probed once. Probes are counted at the Redis servers
 * (total_connections_received), so counting costs the measured process nothing.
 * Everything listens on, and is contacted at, 127.0.0.1 only.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { proberDefaults } from '../src/watch/store-prober.js';
import { startRedis, type PrivateRedis } from '../test/servers/redis-server.js';
import { watchStatus } from './watch-status.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const quick = process.argv.includes('--quick');
function numberArgument(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  const value = at > 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} needs a positive integer`);
  return value;
}
const storeCount = numberArgument('--stores', quick ? 100 : 1000);
const windowS = numberArgument('--seconds', quick ? 15 : 60);
const serverCount = 10;
const intervalMs = proberDefaults.intervalMs;
const password = 'bench-Redis-cpu-1';
const warmupLimitMs = 300_000;

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// A function, so the compiler does not assume the exit code unchanged across an await.
const isRunning = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;

function clockTicks(): number {
  const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const ticks = Number(out.stdout.trim());
  return Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
}

/** user+sys CPU ticks of a process (proc(5): fields 14 and 15, counted after the parenthesised name). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024;
}

async function connectionsReceived(servers: PrivateRedis[]): Promise<number> {
  let total = 0;
  for (const server of servers) {
    const info = await server.cli('INFO', 'stats');
    total += Number(/total_connections_received:(\d+)/.exec(info)?.[1] ?? 0);
  }
  return total;
}

interface Measurement {
  cpuPercent: number;
  /** CPU per probe: unlike the percentage, it holds when the process cannot keep the interval. */
  cpuMsPerProbe: number;
  rssMiB: { mean: number; max: number };
  probesPerSecond: number;
  windowS: number;
}

/** CPU, memory and probes of `pid` over the window; RSS sampled every second. */
async function measure(pid: number, servers: PrivateRedis[], ticksPerSecond: number): Promise<Measurement> {
  const connectionsBefore = await connectionsReceived(servers);
  const ticksBefore = cpuTicks(pid);
  const started = performance.now();
  const rss: number[] = [];
  while (performance.now() - started < windowS * 1000) {
    rss.push(rssMiB(pid));
    await sleep(Math.min(1000, windowS * 1000 - (performance.now() - started)));
  }
  const ticksAfter = cpuTicks(pid);
  const seconds = (performance.now() - started) / 1000;
  // Each INFO call is itself one connection per server.
  const connections = (await connectionsReceived(servers)) - connectionsBefore - servers.length;
  const cpuSeconds = (ticksAfter - ticksBefore) / ticksPerSecond;
  return {
    cpuMsPerProbe: Number(((1000 * cpuSeconds) / Math.max(1, connections)).toFixed(2)),
    cpuPercent: Number(((100 * (ticksAfter - ticksBefore)) / ticksPerSecond / seconds).toFixed(1)),
    rssMiB: {
      mean: Math.round(rss.reduce((a, b) => a + b, 0) / Math.max(1, rss.length)),
      max: Math.round(Math.max(...rss)),
    },
    probesPerSecond: Number((connections / seconds).toFixed(1)),
    windowS: Number(seconds.toFixed(1)),
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (!isRunning(child)) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(20_000)]);
  if (isRunning(child)) child.kill('SIGKILL');
}

interface StatusRow {
  name: string;
  state: string;
  lastProbeAt?: string;
}

function leakwatchCommand(): { args: string[]; how: string } {
  const dist = join(root, 'dist/cli/main.js');
  if (existsSync(dist)) return { args: [dist], how: 'dist/cli/main.js' };
  return { args: ['--import', 'tsx', join(root, 'src/cli/main.ts')], how: 'src/cli/main.ts via tsx' };
}

async function measureLeakwatch(
  servers: PrivateRedis[],
  dir: string,
  ticksPerSecond: number,
): Promise<Measurement & { how: string; warmupS: number; freshness: object; probeErrors: number }> {
  const config = join(dir, 'leakwatch.yaml');
  const lines = ['stores:'];
  for (let i = 0; i < storeCount; i++) {
    const port = servers[i % servers.length]?.port ?? 0;
    lines.push(`  - name: store-${String(i + 1).padStart(4, '0')}`, `    target: redis://127.0.0.1:${port}`);
  }
  writeFileSync(config, `${lines.join('\n')}\n`);
  const storeDir = join(dir, 'state');
  const command = leakwatchCommand();
  log(`leakwatch (${command.how}) watching ${storeCount} stores; state in ${storeDir}`);
  const child = spawn(process.execPath, [...command.args, 'watch', '--config', config, '--store', storeDir], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let probeErrors = 0;
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    const text = d.toString();
    probeErrors += text.match(/could not record a probe/g)?.length ?? 0;
    stderr = (stderr + text).slice(-4000);
  });
  try {
    const started = performance.now();
    for (;;) {
      if (!isRunning(child)) throw new Error(`leakwatch watch exited: ${stderr}`);
      if (performance.now() - started > warmupLimitMs) throw new Error('warm-up did not finish');
      const rows = await watchStatus<StatusRow>(storeDir, 30_000);
      const probed = rows?.filter((r) => r.lastProbeAt !== undefined).length ?? 0;
      if (rows !== undefined) log(`warm-up: ${probed}/${storeCount} stores probed`);
      if (probed >= storeCount) break;
      await sleep(intervalMs);
    }
    const warmupS = Math.round((performance.now() - started) / 1000);
    // One more interval, so the status queries of the warm-up are not in the window.
    await sleep(intervalMs);
    log(`measuring leakwatch for ${windowS} s…`);
    const pid = child.pid ?? 0;
    const measured = await measure(pid, servers, ticksPerSecond);
    // Ages are taken from when status was asked: answering it for 1,000 stores takes a while.
    const now = Date.now();
    const rows = (await watchStatus<StatusRow>(storeDir, 30_000)) ?? [];
    const ages = rows.map((r) => (r.lastProbeAt === undefined ? Infinity : now - Date.parse(r.lastProbeAt)));
    const states: Record<string, number> = {};
    for (const r of rows) states[r.state] = (states[r.state] ?? 0) + 1;
    const freshness = {
      stores: rows.length,
      states,
      // At a 5 s ±20% interval every store should have been probed within the last ~6 s.
      probedWithinIntervalPlusJitter: ages.filter((a) => a <= intervalMs * 1.2 + 1000).length,
      oldestProbeAgeS: Number((Math.max(...ages) / 1000).toFixed(1)),
    };
    return { ...measured, how: command.how, warmupS, freshness, probeErrors };
  } finally {
    await stopChild(child);
  }
}

async function measureBaseline(servers: PrivateRedis[], ticksPerSecond: number): Promise<Measurement> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(root, 'bench/watch-cpu-baseline.ts'),
      '--ports',
      servers.map((s) => s.port).join(','),
      '--stores',
      String(storeCount),
      '--interval',
      String(intervalMs),
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error('baseline warm-up did not finish'));
      }, 60_000);
      child.stderr.on('data', (d: Buffer) => {
        if (d.toString().includes('warm')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`baseline exited ${code}`));
      });
    });
    await sleep(intervalMs);
    log(`measuring the baseline for ${windowS} s…`);
    return await measure(child.pid ?? 0, servers, ticksPerSecond);
  } finally {
    await stopChild(child);
  }
}

async function main(): Promise<void> {
  const ticksPerSecond = clockTicks();
  const dir = mkdtempSync(join(tmpdir(), 'lw-bench-cpu-'));
  const servers: PrivateRedis[] = [];
  try {
    log(`starting ${serverCount} password-protected redis servers…`);
    for (let i = 0; i < serverCount; i++) servers.push(await startRedis(['--requirepass', password]));
    const leakwatch = await measureLeakwatch(servers, dir, ticksPerSecond);
    const baseline = await measureBaseline(servers, ticksPerSecond);
    const ratio = Number((leakwatch.cpuPercent / Math.max(0.1, baseline.cpuPercent)).toFixed(1));
    const expectedProbesPerSecond = storeCount / (intervalMs / 1000);
    const perProbeRatio = Number((leakwatch.cpuMsPerProbe / baseline.cpuMsPerProbe).toFixed(1));
    // What keeping the interval would take, had the process been given the CPU (one thread at most 100 %).
    const projectedPercent = Math.round((leakwatch.cpuMsPerProbe * expectedProbesPerSecond) / 10);
    const summary = {
      stores: storeCount,
      redisServers: serverCount,
      intervalMs,
      windowS,
      ticksPerSecond,
      leakwatch,
      baseline,
      cpuRatio: ratio,
      perProbeRatio,
      projectedPercentAtExpectedRate: projectedPercent,
      expectedProbesPerSecond,
    };
    const markdown = [
      `CPU of \`leakwatch watch\` with ${storeCount.toLocaleString('en-US')} loopback Redis stores ` +
        `(${serverCount} servers, password-protected) at the default ${intervalMs / 1000} s interval, ` +
        `${windowS} s window after warm-up (${leakwatch.how}):`,
      `**${leakwatch.cpuPercent} % of one core, ${ratio}x the bare-probe baseline (${baseline.cpuPercent} %)**.`,
      '',
      '| | leakwatch watch | baseline (raw TCP PING) |',
      '| --- | ---: | ---: |',
      `| CPU, % of one core | ${leakwatch.cpuPercent} | ${baseline.cpuPercent} |`,
      `| RSS mean / max, MiB | ${leakwatch.rssMiB.mean} / ${leakwatch.rssMiB.max} | ${baseline.rssMiB.mean} / ${baseline.rssMiB.max} |`,
      `| probes/s achieved (expected ${expectedProbesPerSecond}) | ${leakwatch.probesPerSecond} | ${baseline.probesPerSecond} |`,
      `| CPU ms per probe | ${leakwatch.cpuMsPerProbe} | ${baseline.cpuMsPerProbe} |`,
      '',
      `Per probe leakwatch costs ${perProbeRatio}x the baseline; at ${expectedProbesPerSecond} probes/s that is ` +
        `${projectedPercent} % of one core. Load average during the run: ${loadavg()
          .map((l) => l.toFixed(1))
          .join(', ')} on ${availableParallelism()} CPUs.`,
      '',
      `leakwatch: warm-up ${leakwatch.warmupS} s; after the window ${JSON.stringify(leakwatch.freshness)}; ` +
        `${leakwatch.probeErrors} probe(s) not recorded.`,
    ].join('\n');
    process.stdout.write(`${markdown}\n`);
    mkdirSync(join(root, 'bench/results'), { recursive: true });
    writeFileSync(join(root, 'bench/results/watch-cpu.json'), JSON.stringify(summary, null, 2));
    writeFileSync(join(root, 'bench/results/watch-cpu.md'), `${markdown}\n`);
  } finally {
    await Promise.all(servers.map((s) => s.stop().catch(() => undefined)));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
