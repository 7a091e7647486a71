/**
 * Benchmark (not a test): detection latency of `leakwatch watch` at its DEFAULT settings (no
 * --interval: 5 s, jittered ±20%). One watch process watches a private Redis, PostgreSQL and
 * Mosquitto, each protected; per trial an operator's mistake removes the protection, and latency is
 * the time until the signed `opened` webhook arrives. Protocols run their trials concurrently.
 *
 *   npm run bench:watch-latency [-- --trials 20 | --quick]
 *
 * Goal (issue 4): median ≤ 10 s, p95 ≤ 15 s. The baseline of the same run is the floor of any
 * jittered poll: the mean wait until the next probe plus the probe itself; the ratio median/interval
 * says how close the pipeline (probe, record, outbox, webhook) comes to it.
 * Everything listens on, and is contacted at, 127.0.0.1 only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { proberDefaults } from '../src/watch/store-prober.js';
import type { WatchEvent } from '../src/watch/watch-event.js';
import { startMosquitto } from '../test/servers/mosquitto-server.js';
import { startPostgres } from '../test/servers/postgres-server.js';
import { startRedis } from '../test/servers/redis-server.js';
import { startWebhookReceiver } from '../test/servers/webhook-receiver.js';
import { watchStatus } from './watch-status.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const trialsArg = process.argv.indexOf('--trials');
const trials = process.argv.includes('--quick')
  ? 3
  : trialsArg > 0
    ? Number(process.argv[trialsArg + 1])
    : 20;
const goals = { medianMs: 10_000, p95Ms: 15_000 };
const intervalMs = proberDefaults.intervalMs;
// LocalSchedule's default jitter (src/watch/local-schedule.ts): each period is uniform in ±20%.
const jitter = 0.2;
const waitLimitMs = 60_000;

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Nearest-rank percentile: with 20 trials p95 is the 19th value, not an interpolation. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

/** What the bench saw of the watcher, timestamped on arrival with this process's clock. */
interface Seen {
  source: 'stdout' | 'webhook';
  kind: string;
  /** `host:port` of the store. */
  endpoint: string;
  toState: string;
  /** The event's own `at` (probe finished), as epoch ms. */
  at: number;
  arrivedAt: number;
  signatureValid?: boolean;
}

class EventLog {
  readonly seen: Seen[] = [];
  private readonly waiters = new Set<() => void>();

  add(event: WatchEvent, source: Seen['source'], signatureValid?: boolean): void {
    const endpoint = /\/\/(?:[^@/]*@)?([^/]+)/.exec(event.store.target)?.[1] ?? event.store.target;
    this.seen.push({
      source,
      kind: event.kind,
      endpoint,
      toState: event.toState,
      at: Date.parse(event.at),
      arrivedAt: Date.now(),
      ...(signatureValid === undefined ? {} : { signatureValid }),
    });
    for (const wake of this.waiters) wake();
  }

  /** The first entry after `since` that matches, waiting for it up to `timeoutMs`. */
  async next(match: (s: Seen) => boolean, since: number, timeoutMs: number): Promise<Seen | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.seen.find((s) => s.arrivedAt >= since && match(s));
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }
}

interface Watched {
  protocol: string;
  target: string;
  endpoint: string;
  remove(): Promise<void>;
  restore(): Promise<void>;
}

interface Trial {
  /** From the removal command being issued to the webhook's arrival. */
  fromCommandMs: number;
  /** From the helper confirming the removal took effect to the webhook's arrival. */
  fromEffectiveMs: number;
  /** From effective removal to the probe that saw it finishing (the event's `at`). */
  detectMs: number;
  /** From that probe finishing to the webhook's arrival: record, outbox, signed POST. */
  deliverMs: number;
  /** Duration of the probe that saw the store open (an opening store is classified in it). */
  openingProbeMs?: number;
  /** Duration of the probe that saw it protected again: a plain protection check. */
  protectedProbeMs?: number;
}

// A function, so the compiler does not assume the exit code unchanged across an await.
const isRunning = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;

function leakwatchCommand(): { args: string[]; how: string } {
  const dist = join(root, 'dist/cli/main.js');
  if (existsSync(dist)) return { args: [dist], how: 'dist/cli/main.js' };
  return { args: ['--import', 'tsx', join(root, 'src/cli/main.ts')], how: 'src/cli/main.ts via tsx' };
}

interface StatusRow {
  target: string;
  probeMs?: number;
}

/** The latest probe's duration, from the running watch's status API (`leakwatch status` asks it too). */
async function lastProbeMs(storeDir: string, endpoint: string): Promise<number | undefined> {
  const rows = await watchStatus<StatusRow>(storeDir, 10_000);
  return rows?.find((r) => r.target.includes(`//${endpoint}`))?.probeMs;
}

async function runTrials(
  watched: Watched,
  events: EventLog,
  count: number,
  storeDir: string,
): Promise<{ trials: Trial[]; missed: number }> {
  const result: Trial[] = [];
  let missed = 0;
  const forStore = (kind: string) => (s: Seen) => s.endpoint === watched.endpoint && s.kind === kind;
  // The first trial waits for the first probe: first-seen on stdout (a protected store alerts nothing).
  const first = await events.next(
    (s) => s.endpoint === watched.endpoint && s.toState === 'protected',
    0,
    180_000,
  );
  if (first === undefined) throw new Error(`${watched.protocol}: never seen protected`);
  for (let i = 0; i < count; i++) {
    await sleep(Math.random() * 5000);
    const issued = Date.now();
    await watched.remove();
    const effective = Date.now();
    const opened = await events.next(
      (s) => s.source === 'webhook' && forStore('opened')(s),
      issued,
      waitLimitMs,
    );
    if (opened === undefined) {
      missed++;
      log(`${watched.protocol} trial ${i + 1}: no opened webhook within ${waitLimitMs / 1000} s`);
    } else {
      const trial: Trial = {
        fromCommandMs: opened.arrivedAt - issued,
        fromEffectiveMs: opened.arrivedAt - effective,
        detectMs: opened.at - effective,
        deliverMs: opened.arrivedAt - opened.at,
      };
      const openingProbeMs = await lastProbeMs(storeDir, watched.endpoint);
      if (openingProbeMs !== undefined) trial.openingProbeMs = openingProbeMs;
      result.push(trial);
      log(
        `${watched.protocol} trial ${i + 1}/${count}: ${(trial.fromEffectiveMs / 1000).toFixed(2)} s ` +
          `(from command ${(trial.fromCommandMs / 1000).toFixed(2)} s; removal took ${effective - issued} ms)`,
      );
    }
    const restoring = Date.now();
    await watched.restore();
    const closed = await events.next(
      (s) => s.source === 'webhook' && forStore('closed')(s),
      restoring,
      waitLimitMs,
    );
    if (closed === undefined) throw new Error(`${watched.protocol}: no closed webhook after restoring`);
    const protectedProbeMs = await lastProbeMs(storeDir, watched.endpoint);
    const last = result.at(-1);
    if (protectedProbeMs !== undefined && last !== undefined && opened !== undefined)
      last.protectedProbeMs = protectedProbeMs;
  }
  return { trials: result, missed };
}

interface Summary {
  n: number;
  missed: number;
  medianMs: number;
  p95Ms: number;
  maxMs: number;
  medianFromCommandMs: number;
  p95FromCommandMs: number;
  medianDetectMs: number;
  medianDeliverMs: number;
  medianProtectedProbeMs: number;
  medianOpeningProbeMs: number;
}

function summarize(trials: Trial[], missed: number): Summary {
  const effective = trials.map((t) => t.fromEffectiveMs);
  const command = trials.map((t) => t.fromCommandMs);
  // A missed alert counts as infinitely late, so it can only hurt the percentiles.
  const withMissed = (values: number[]) => [...values, ...Array<number>(missed).fill(Infinity)];
  return {
    n: trials.length,
    missed,
    medianMs: Math.round(median(withMissed(effective))),
    p95Ms: Math.round(percentile(withMissed(effective), 95)),
    maxMs: Math.round(Math.max(...withMissed(effective))),
    medianFromCommandMs: Math.round(median(withMissed(command))),
    p95FromCommandMs: Math.round(percentile(withMissed(command), 95)),
    medianDetectMs: Math.round(median(trials.map((t) => t.detectMs))),
    medianDeliverMs: Math.round(median(trials.map((t) => t.deliverMs))),
    medianProtectedProbeMs: Math.round(median(trials.flatMap((t) => t.protectedProbeMs ?? []))),
    medianOpeningProbeMs: Math.round(median(trials.flatMap((t) => t.openingProbeMs ?? []))),
  };
}

async function main(): Promise<void> {
  if (!Number.isInteger(trials) || trials < 1) throw new Error('--trials needs a positive integer');
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const dir = mkdtempSync(join(tmpdir(), 'lw-bench-watch-'));
  const stops: (() => Promise<void>)[] = [];
  let watch: ChildProcess | undefined;
  const loop = { finished: false };
  try {
    log('starting redis, postgres, mosquitto (protected) and a webhook receiver…');
    const receiver = await startWebhookReceiver({ secret });
    stops.push(() => receiver.stop());
    const [redis, postgres, mosquitto] = await Promise.all([
      startRedis(['--requirepass', 'bench-Redis-1']),
      startPostgres({ auth: 'scram-sha-256', password: 'bench-Pg-1' }),
      startMosquitto({ anonymous: false, users: { app: 'bench-Mqtt-1' } }),
    ]);
    stops.push(
      () => redis.stop(),
      () => postgres.stop(),
      () => mosquitto.stop(),
    );
    const watched: Watched[] = [
      {
        protocol: 'redis',
        target: `redis://127.0.0.1:${redis.port}`,
        endpoint: `127.0.0.1:${redis.port}`,
        remove: () => redis.setPassword(''),
        restore: () => redis.setPassword('bench-Redis-1'),
      },
      {
        protocol: 'postgres',
        target: `postgres://127.0.0.1:${postgres.port}/postgres`,
        endpoint: `127.0.0.1:${postgres.port}`,
        remove: () => postgres.setAuth('trust'),
        restore: () => postgres.setAuth('scram-sha-256'),
      },
      {
        protocol: 'mqtt',
        target: `mqtt://127.0.0.1:${mosquitto.port}`,
        endpoint: `127.0.0.1:${mosquitto.port}`,
        remove: () => mosquitto.setAnonymous(true),
        restore: () => mosquitto.setAnonymous(false),
      },
    ];

    const events = new EventLog();
    // Stamp each webhook the moment the receiver records it.
    let delivered = 0;
    void (async () => {
      while (!loop.finished) {
        await receiver.waitFor(delivered + 1, 1000).catch(() => undefined);
        for (const request of receiver.requests.slice(delivered)) {
          events.add(request.json as WatchEvent, 'webhook', request.signatureValid);
        }
        delivered = receiver.requests.length;
      }
    })();

    const command = leakwatchCommand();
    const storeDir = join(dir, 'state');
    log(`leakwatch from ${command.how}; state in ${dir} (a new PGlite store takes a while)`);
    const child = spawn(
      process.execPath,
      [
        ...command.args,
        'watch',
        ...watched.map((w) => w.target),
        '--webhook',
        receiver.url,
        '--webhook-secret',
        secret,
        '--store',
        storeDir,
        '--json',
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    watch = child;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.once('exit', (code) => {
      if (code !== 0 && code !== null) log(`leakwatch watch exited ${code}: ${stderr}`);
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        events.add(JSON.parse(line) as WatchEvent, 'stdout');
      } catch {
        // Not an event line; --json prints nothing else on stdout.
      }
    });

    const started = Date.now();
    const outcomes = await Promise.all(watched.map((w) => runTrials(w, events, trials, storeDir)));
    const elapsedS = Math.round((Date.now() - started) / 1000);

    const perProtocol = Object.fromEntries(
      watched.map((w, i) => [w.protocol, summarize(outcomes[i]?.trials ?? [], outcomes[i]?.missed ?? 0)]),
    );
    const overall = summarize(
      outcomes.flatMap((o) => o.trials),
      outcomes.reduce((n, o) => n + o.missed, 0),
    );
    const webhooks = events.seen.filter((s) => s.source === 'webhook');
    const badSignatures = webhooks.filter((s) => s.signatureValid !== true).length;
    // The residual wait of a renewal process with period P ~ U[(1-j)I, (1+j)I] is E[P²]/(2E[P]).
    const meanResidualMs = (intervalMs * (1 + (jitter * jitter) / 3)) / 2;
    const protectedProbeMs = Object.fromEntries(
      Object.entries(perProtocol).map(([p, x]) => [p, x.medianProtectedProbeMs]),
    );
    const floorMs = meanResidualMs + median(Object.values(protectedProbeMs));
    const pass = overall.medianMs <= goals.medianMs && overall.p95Ms <= goals.p95Ms && overall.missed === 0;
    const summary = {
      trialsPerProtocol: trials,
      intervalMs,
      jitter,
      leakwatch: command.how,
      goals,
      pass,
      overall,
      perProtocol,
      baseline: {
        meanWaitForNextProbeMs: Math.round(meanResidualMs),
        halfIntervalMs: intervalMs / 2,
        protectedProbeMsByProtocol: protectedProbeMs,
        floorMs: Math.round(floorMs),
      },
      ratios: {
        medianOverInterval: Number((overall.medianMs / intervalMs).toFixed(2)),
        medianOverFloor: Number((overall.medianMs / floorMs).toFixed(2)),
      },
      webhooks: webhooks.length,
      badSignatures,
      elapsedS,
    };
    const s = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : 'missed');
    const row = (name: string, x: Summary) =>
      `| ${name} | ${x.n}${x.missed > 0 ? ` (+${x.missed} missed)` : ''} | ${s(x.medianMs)} | ${s(x.p95Ms)} | ${s(x.maxMs)} | ` +
      `${s(x.medianFromCommandMs)} | ${s(x.p95FromCommandMs)} | ${s(x.medianDetectMs)} | ${s(x.medianDeliverMs)} | ` +
      `${x.medianProtectedProbeMs} ms | ${x.medianOpeningProbeMs} ms |`;
    const markdown = [
      `Detection latency of \`leakwatch watch\` at default settings (interval ${intervalMs / 1000} s ±${jitter * 100}%), ` +
        `${trials} trials per protocol, one watch process, protocols concurrently (${elapsedS} s):`,
      `**median ${s(overall.medianMs)}, p95 ${s(overall.p95Ms)}: ${pass ? 'PASS' : 'FAIL'}** ` +
        `(goal: median ≤ ${goals.medianMs / 1000} s, p95 ≤ ${goals.p95Ms / 1000} s).`,
      `Baseline: a ${intervalMs / 1000} s ±${jitter * 100}% poll waits ${s(meanResidualMs)} on average for its next probe ` +
        `(interval/2 = ${s(intervalMs / 2)}), plus a protection probe of ${Object.entries(protectedProbeMs)
          .map(([p, ms]) => `${ms} ms (${p})`)
          .join(', ')}: floor ≈ ${s(floorMs)}. ` +
        `Ratio median/interval = ${summary.ratios.medianOverInterval}; median/floor = ${summary.ratios.medianOverFloor}.`,
      `${webhooks.length} webhooks received, ${badSignatures} with a bad signature.`,
      '',
      '| protocol | n | median | p95 | max | median from command | p95 from command | median to detection | median delivery | protection probe | opening probe |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...watched.map((w) => row(w.protocol, perProtocol[w.protocol] as Summary)),
      row('all', overall),
      '',
      'Latency is from the removal being effective (the helper saw a fresh connection get in) to the',
      '`opened` webhook\'s arrival; "from command" starts when the removal command was issued. Detection ends',
      "at the event's `at` (the probe that saw it finished); delivery is the rest (record, outbox, signed POST).",
      'Probe columns: median duration of the probe that saw the store protected again, and of the one that saw',
      'it open (which also samples and classifies the store before the event is recorded).',
    ].join('\n');
    process.stdout.write(`${markdown}\n`);
    mkdirSync(join(root, 'bench/results'), { recursive: true });
    writeFileSync(join(root, 'bench/results/watch-latency.json'), JSON.stringify(summary, null, 2));
    writeFileSync(join(root, 'bench/results/watch-latency.md'), `${markdown}\n`);
    if (!pass) process.exitCode = 1;
  } finally {
    loop.finished = true;
    if (watch !== undefined && watch.exitCode === null) {
      const exited = new Promise((r) => watch?.once('exit', r));
      watch.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
      if (isRunning(watch)) watch.kill('SIGKILL');
    }
    await Promise.all(stops.map((stop) => stop().catch(() => undefined)));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
