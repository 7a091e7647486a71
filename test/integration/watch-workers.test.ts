import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';
import type { WatchEvent } from '../../src/watch/watch-event.js';
import { freePort } from '../servers/free-port.js';
import { startPostgres, type PrivatePostgres } from '../servers/postgres-server.js';
import { startRedis, type PrivateRedis } from '../servers/redis-server.js';
import { startWebhookReceiver, type WebhookReceiver } from '../servers/webhook-receiver.js';
import { holdsConnectionTo, startWatchChild, type WatchChild } from '../watch-child.js';

// Two `leakwatch worker` processes share one real PostgreSQL store (pg-boss schedule); one is killed
// with SIGKILL while probes are in flight, and the survivor must keep every store on the schedule.
const secret = `whsec_${Buffer.from('watch-workers-test-secret-32-bytes!!').toString('base64')}`;
const redisCount = 6;
const intervalMs = 1000;

let postgres: PrivatePostgres | undefined;
let receiver: WebhookReceiver | undefined;
let silent: { server: Server; port: number; sockets: Set<Socket> } | undefined;
const redis: PrivateRedis[] = [];
const workers: WatchChild[] = [];

function pg(): PrivatePostgres {
  if (postgres === undefined) throw new Error('PostgreSQL did not start');
  return postgres;
}

function hooks(): WebhookReceiver {
  if (receiver === undefined) throw new Error('webhook receiver did not start');
  return receiver;
}

const storeUrl = () => `postgres://postgres@127.0.0.1:${pg().port}/postgres`;

/** A TCP server that accepts and never answers: a probe of it runs into its timeout. */
async function startSilentServer(): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, port, sockets };
}

async function lastProbes(): Promise<Map<string, number>> {
  const [result] = await pg().psql(
    'select name, extract(epoch from last_probe_at) * 1000 as at from watched_store where active',
  );
  const rows = (result?.rows ?? []) as { name: string; at: string | null }[];
  return new Map(rows.map((r) => [r.name, r.at === null ? 0 : Number(r.at)]));
}

async function waitForAllProbedAfter(since: number, timeoutMs: number): Promise<Map<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const probes = await lastProbes();
    const stale = [...probes].filter(([, at]) => at <= since).map(([name]) => name);
    if (probes.size === redisCount + 1 && stale.length === 0) return probes;
    if (Date.now() > deadline) {
      throw new Error(`not probed within ${timeoutMs} ms after ${since}: ${stale.join(', ')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** leakwatch_probes_total of one worker, summed over labels, from its own /metrics. */
async function probesOf(metricsPort: number): Promise<number> {
  const text = await (
    await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(5000) })
  ).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('leakwatch_probes_total{')) total += Number(line.split(' ').pop());
  }
  return total;
}

async function startWorker(metricsPort: number): Promise<WatchChild> {
  const child = startWatchChild([
    'worker',
    '--store',
    storeUrl(),
    '--timeout',
    '2s',
    '--json',
    '--webhook',
    hooks().url,
    '--webhook-secret',
    secret,
    '--metrics',
    `127.0.0.1:${metricsPort}`,
  ]);
  workers.push(child);
  await child.waitUntil('worker start', () => child.notes.some((n) => n.includes('watching')), 30_000);
  return child;
}

function requestsFor(id: string) {
  return hooks().requests.filter((r) => r.headers['webhook-id'] === id);
}

function allEvents(): WatchEvent[] {
  return workers.flatMap((w) => w.events);
}

async function eventsOf(name: string): Promise<{ kind: string; id: string }[]> {
  const [result] = await pg().psql(
    `select e.kind, e.payload->>'id' as id from watch_event e join watched_store s on s.id = e.store_id
     where s.name = '${name}' order by e.id`,
  );
  return (result?.rows ?? []) as { kind: string; id: string }[];
}

/** Every transition of the store was alerted once, and the receiver acknowledged each id once. */
async function expectOneDeliveryPerTransition(name: string, opened: number, closed: number) {
  const events = await eventsOf(name);
  const transitions = events.filter((e) => e.kind === 'opened' || e.kind === 'closed');
  expect(transitions.map((e) => e.kind)).toEqual(
    Array.from({ length: opened + closed }, (_, i) => (i % 2 === 0 ? 'opened' : 'closed')),
  );
  for (const event of transitions) {
    const seen = requestsFor(event.id);
    expect(seen, `${event.kind} ${event.id} delivered once`).toHaveLength(1);
    expect(seen[0]?.signatureValid).toBe(true);
    // Printed on stdout by exactly one worker: one process recorded it.
    expect(allEvents().filter((e) => e.id === event.id)).toHaveLength(1);
  }
}

describe('two workers share one PostgreSQL store (pg-boss); kill -9 of one loses no store', () => {
  beforeAll(async () => {
    const started = await Promise.all([
      startPostgres({ auth: 'trust' }),
      startWebhookReceiver({ secret }),
      startSilentServer(),
      ...Array.from({ length: redisCount }, (_, i) => startRedis(['--requirepass', `w0rker-Pa55-${i}`])),
    ]);
    postgres = started[0];
    receiver = started[1];
    silent = started[2];
    redis.push(...(started.slice(3) as PrivateRedis[]));
    // Registered as `watch --store postgres://…` would; the workers then probe what the store lists.
    const store = await Store.open({ kind: 'postgres', url: storeUrl() }, 'test');
    try {
      await store.upsertWatchedStores([
        ...redis.map((r, i) => ({
          name: `redis-${i}`,
          target: `redis://127.0.0.1:${r.port}`,
          protocol: 'redis',
          intervalMs,
        })),
        {
          name: 'silent',
          target: `redis://127.0.0.1:${silent.port}`,
          protocol: 'redis',
          intervalMs,
        },
      ]);
    } finally {
      await store.close();
    }
  }, 90_000);

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill9()));
    for (const socket of silent?.sockets ?? []) socket.destroy();
    silent?.server.close();
    await Promise.all([...redis.map((r) => r.stop()), receiver?.stop(), postgres?.stop()]);
  });

  it('both probe, the survivor takes over every store, and each transition is alerted once', async () => {
    const [metricsFirst, metricsSecond, metricsRestarted] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
    ]);
    const first = { child: await startWorker(metricsFirst), metrics: metricsFirst };
    const second = { child: await startWorker(metricsSecond), metrics: metricsSecond };
    const started = Date.now();

    // Both take work from the shared queue, and every store is probed.
    await waitForAllProbedAfter(started, 15_000);
    const deadline = Date.now() + 30_000;
    while ((await probesOf(first.metrics)) < 5 || (await probesOf(second.metrics)) < 5) {
      if (Date.now() > deadline) throw new Error('one worker got no share of the probes');
      await new Promise((r) => setTimeout(r, 250));
    }
    console.log(
      `probes before the kill: first worker ${await probesOf(first.metrics)}, second ${await probesOf(second.metrics)}`,
    );

    // Kill a worker in the middle of a probe: the one holding a connection to the silent store, whose
    // probe runs 2 s into its timeout, so it dies between taking that store's job and queuing the
    // store's next probe (the case a schedule can lose a store in).
    const server = silent as NonNullable<typeof silent>;
    const holder = () => [first, second].find((w) => holdsConnectionTo(w.child.pid, server.port));
    await new Promise((r) => setTimeout(r, Math.random() * 1000));
    await first.child.waitUntil(
      'a probe of the silent store in flight',
      () => holder() !== undefined,
      20_000,
    );
    const victim = holder() as typeof first;
    const survivor = victim === first ? second : first;
    await victim.child.kill9();
    const killedAt = Date.now();
    const survivorShare = await probesOf(survivor.metrics);
    // Its job for the silent store stays active (pg-boss expires it only after 90 s), and nothing
    // queued that store's next probe.
    const [stuck] = await pg().psql(
      `select j.state::text as state, count(*)::int as n from leakwatch_boss.job j join watched_store s on s.id = (j.data->>'storeId')::bigint
       where s.name = 'silent' and j.state in ('created', 'active') group by j.state`,
    );
    console.log(
      `killed the ${victim === first ? 'first' : 'second'} worker mid-probe; silent store jobs: ${JSON.stringify(stuck?.rows)}`,
    );
    expect(stuck?.rows).toContainEqual({ state: 'active', n: 1 });
    const a = survivor.child;

    // Within three intervals plus a reconcile period (and far below pg-boss's 90 s job expiry), the
    // survivor probes every store, and keeps doing so.
    const recovered = await waitForAllProbedAfter(killedAt + 500, 3 * intervalMs + 5000 + 5000);
    console.log(`every store probed again ${Math.max(...recovered.values()) - killedAt} ms after the kill`);
    await waitForAllProbedAfter(Date.now(), 3 * intervalMs + 2000);
    expect(await probesOf(survivor.metrics)).toBeGreaterThan(survivorShare);

    // A mistake after the kill: the survivor alerts it, once.
    const target = redis[0] as PrivateRedis;
    await target.setPassword('');
    await a.waitUntil('opened of redis-0', () => a.events.some((e) => e.kind === 'opened'), 10_000);
    const opened = a.events.find((e) => e.kind === 'opened');
    expect(opened?.store.name).toBe('redis-0');
    await hooks().waitFor(1, 10_000);
    expect(requestsFor(opened?.id ?? '')).toHaveLength(1);

    // The killed worker comes back; both share the schedule again; the next transitions are still
    // recorded and alerted exactly once, whichever worker sees them.
    const c = await startWorker(metricsRestarted);
    const restartedAt = Date.now();
    await waitForAllProbedAfter(restartedAt, 10_000);
    await target.setPassword('back-Pa55-word');
    const other = redis[1] as PrivateRedis;
    await other.setPassword('');
    const seen = () => allEvents().filter((e) => e.kind === 'opened' || e.kind === 'closed');
    await a.waitUntil('closed of redis-0 and opened of redis-1', () => seen().length >= 3, 15_000);
    await other.setPassword('again-Pa55-word');
    await a.waitUntil('closed of redis-1', () => seen().length >= 4, 15_000);
    await hooks().waitFor(4, 15_000);
    const cDeadline = Date.now() + 15_000;
    while ((await probesOf(metricsRestarted)) < 3) {
      if (Date.now() > cDeadline) throw new Error('the restarted worker got no share of the probes');
      await new Promise((r) => setTimeout(r, 250));
    }
    console.log(
      `probes since the kill: survivor ${(await probesOf(survivor.metrics)) - survivorShare}, ` +
        `restarted worker ${await probesOf(metricsRestarted)}`,
    );

    // Let a few more rounds run, so a late duplicate would show, then stop gracefully.
    await new Promise((r) => setTimeout(r, 3000));
    expect(await a.stop()).toBe(0);
    expect(await c.stop()).toBe(0);

    await expectOneDeliveryPerTransition('redis-0', 1, 1);
    await expectOneDeliveryPerTransition('redis-1', 1, 1);
    for (let i = 2; i < redisCount; i++) {
      expect((await eventsOf(`redis-${i}`)).map((e) => e.kind)).toEqual(['first-seen']);
    }
    expect(hooks().requests).toHaveLength(4);
    const [alerts] = await pg().psql(`select status, count(*)::int as n from alert group by status`);
    expect(alerts?.rows).toEqual([{ status: 'sent', n: 4 }]);
  }, 110_000);
});
