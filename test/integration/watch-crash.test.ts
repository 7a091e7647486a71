import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoreHistory } from '../../src/watch/status-view.js';
import type { WatchEvent } from '../../src/watch/watch-event.js';
import { runCli } from '../run-cli.js';
import { freePort } from '../servers/free-port.js';
import { startRedis, type PrivateRedis } from '../servers/redis-server.js';
import { startWebhookReceiver, type WebhookReceiver } from '../servers/webhook-receiver.js';
import { holdsConnectionTo, startWatchChild, type WatchChild } from '../watch-child.js';

/*
 * kill -9 of `leakwatch watch` on an embedded (PGlite) store, four times, at different moments of a
 * protection toggle, then a restart on the same directory: the timeline must continue with every
 * transition recorded once and every alert acknowledged by the receiver once.
 *
 * Delivery is at least once, and the test is honest about the one window where that shows: a POST
 * that reached the receiver before the outbox row was marked sent is sent again after the restart
 * (same webhook-id; receivers deduplicate on it). The test makes that window deterministic instead
 * of leaving it to chance: (1) one kill is fired by the receiver itself on the arrival of an alert,
 * before it answers; (2) every other kill waits until each 2xx the receiver gave is confirmed by the
 * watch's "delivered" note (markAlertSent committed), so no kill lands between a 2xx and the outbox
 * update; (3) a request arriving once a kill was issued (sent by the dying process) is not answered.
 * So each alert is acknowledged with a 2xx exactly once, and requested exactly once, except the ones
 * a kill caught mid-POST, which arrive exactly twice: unanswered, then acknowledged.
 */
const secret = `whsec_${Buffer.from('watch-crash-test-secret-of-32-bytes!').toString('base64')}`;
const password = 'cr4sh-Pa55-word';
const minStateMs = 3000;

let redis: PrivateRedis | undefined;
let receiver: WebhookReceiver | undefined;
let silent: { server: Server; port: number; sockets: Set<Socket> } | undefined;
const storeDir = mkdtempSync(join(tmpdir(), 'lw-watch-crash-'));
const children: WatchChild[] = [];
let current: WatchChild | undefined;
/** Set from the moment a kill is issued until the next watch is spawned. */
let killIssued = false;
/** Set to make the receiver kill the watch on the next alert's arrival, before answering. */
let killOnArrival = false;
const killedMidPost = new Set<string>();

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

const redisTarget = () => `redis://127.0.0.1:${(redis as PrivateRedis).port}`;
const silentTarget = () => `redis://127.0.0.1:${(silent as NonNullable<typeof silent>).port}`;

function watching(): WatchChild {
  if (current === undefined) throw new Error('no watch running');
  return current;
}

async function startWatch(): Promise<WatchChild> {
  killIssued = false;
  const child = startWatchChild([
    'watch',
    redisTarget(),
    silentTarget(),
    '--interval',
    '1s',
    '--timeout',
    '2s',
    '--json',
    '--webhook',
    (receiver as WebhookReceiver).url,
    '--webhook-secret',
    secret,
    '--store',
    storeDir,
  ]);
  children.push(child);
  current = child;
  const spawned = Date.now();
  // A new PGlite directory takes initdb (6-45 s); reopening one a few seconds.
  await child.waitUntil(
    'watch start',
    () => child.notes.some((n) => n.includes('watching 2 store(s)')),
    90_000,
  );
  console.log(`watch ${child.pid} ready after ${Date.now() - spawned} ms`);
  return child;
}

/** SIGKILL now, and check the dead process left its lock behind for the next one to take over. */
async function killWatch(why: string): Promise<void> {
  const child = watching();
  killIssued = true;
  await child.kill9();
  const lock = JSON.parse(readFileSync(join(storeDir, 'leakwatch.lock'), 'utf8')) as { pid: number };
  expect(lock.pid).toBe(child.pid);
  console.log(`kill -9 ${child.pid}: ${why}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The recorded timeline of the Redis store, from the running watch's status API (its lock file says
 * where): the source of truth, since a kill can land after a commit and before the --json line.
 */
async function recordedKinds(): Promise<string[]> {
  const lock = JSON.parse(readFileSync(join(storeDir, 'leakwatch.lock'), 'utf8')) as {
    api?: { url: string; token: string };
  };
  if (lock.api === undefined) return [];
  const response = await fetch(`${lock.api.url}/api/history?store=${encodeURIComponent(redisTarget())}`, {
    headers: { authorization: `Bearer ${lock.api.token}` },
    signal: AbortSignal.timeout(5000),
  });
  return ((await response.json()) as StoreHistory).events.map((e) => e.kind);
}

async function untilRecorded(kind: string, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await recordedKinds()).filter((k) => k === kind).length < n) {
    if (Date.now() > deadline) throw new Error(`${kind} #${n} not recorded within ${timeoutMs} ms`);
    await sleep(200);
  }
}

const allEvents = (): WatchEvent[] => children.flatMap((c) => c.events);
const countOf = (kind: string) => allEvents().filter((e) => e.kind === kind).length;
const allNotes = (): string[] => children.flatMap((c) => c.notes);

/** Every 2xx the receiver gave is confirmed by a "delivered" note: the outbox row is marked sent. */
function noUnconfirmedAck(): boolean {
  const notes = allNotes();
  return (receiver as WebhookReceiver).requests
    .filter((r) => typeof r.answered === 'number' && r.answered < 300)
    .every((r) =>
      notes.some((n) => n.includes(`alert ${String(r.headers['webhook-id'])} (`) && n.includes('delivered')),
    );
}

/** A kill that never lands between a 2xx and the outbox update (see the top of the file). */
async function killSafely(why: string): Promise<void> {
  await watching().waitUntil('every acknowledged alert marked sent', noUnconfirmedAck, 10_000);
  await killWatch(why);
}

async function until(what: string, test: () => boolean, timeoutMs: number): Promise<void> {
  await watching().waitUntil(what, test, timeoutMs);
}

describe('watch survives kill -9 mid-probe and mid-delivery on an embedded store', () => {
  beforeAll(async () => {
    [redis, receiver, silent] = await Promise.all([
      startRedis(['--requirepass', password]),
      startWebhookReceiver({
        secret,
        respond: () => {
          if (killOnArrival && !killIssued) {
            // The watch is waiting for this answer: it dies with the alert sent but not marked.
            killOnArrival = false;
            void killWatch('on the arrival of an alert, before the receiver answered');
            return 'hang';
          }
          return killIssued ? 'hang' : 204;
        },
      }),
      startSilentServer(),
    ]);
  }, 30_000);

  afterAll(async () => {
    await Promise.all(children.map((c) => c.kill9()));
    for (const socket of silent?.sockets ?? []) socket.destroy();
    silent?.server.close();
    await Promise.all([redis?.stop(), receiver?.stop()]);
    rmSync(storeDir, { recursive: true, force: true });
  });

  it('four kill -9s, four restarts: one transition per toggle, one acknowledged alert per transition', async () => {
    const server = redis as PrivateRedis;
    const hooks = receiver as WebhookReceiver;
    const toggles: { open: boolean; start: number; end: number }[] = [];
    const toggle = async (open: boolean) => {
      const start = Date.now();
      await server.setPassword(open ? '' : password);
      toggles.push({ open, start, end: Date.now() });
    };
    /** Keeps the state at least `minStateMs`, and until a watch recorded it. */
    const settle = async (kind: 'opened' | 'closed', n: number) => {
      const since = toggles.at(-1)?.end ?? 0;
      await untilRecorded(kind, n, 20_000);
      await sleep(Math.max(0, since + minStateMs - Date.now()));
    };

    await startWatch();
    await until('first probes of both stores', () => countOf('first-seen') === 2, 20_000);

    for (let cycle = 1; cycle <= 4; cycle++) {
      // --- protection removed
      if (cycle === 1) {
        // Kill the moment the "opened" alert reaches the receiver: sent, not yet marked sent.
        killOnArrival = true;
        await toggle(true);
        await until('the kill on arrival', () => killIssued, 20_000);
        await watching().exited;
        await startWatch();
        await until('the resend', () => watching().notes.some((n) => n.includes('go out again')), 5_000);
      } else if (cycle === 3) {
        // Removed while no watch runs: the restarted one must find it.
        await sleep(Math.random() * 1000);
        await killSafely('then protection is removed while no watch runs');
        await toggle(true);
        await sleep(1000);
        await startWatch();
      } else {
        await toggle(true);
      }
      await settle('opened', cycle);

      // --- protection restored
      await toggle(false);
      if (cycle === 2) {
        // In the middle of a probe: while the watch holds a connection to the silent store (a 2 s
        // timeout), at a random point of it, whether or not the closing was recorded yet.
        const watch = watching();
        await until(
          'a probe of the silent store in flight',
          () => holdsConnectionTo(watch.pid, silent?.port ?? 0),
          10_000,
        );
        await sleep(Math.random() * 1500);
        await until(
          'a probe of the silent store in flight',
          () => holdsConnectionTo(watch.pid, silent?.port ?? 0),
          10_000,
        );
        await killSafely('mid-probe of the silent store, after protection was restored');
        await startWatch();
      } else if (cycle === 4) {
        await sleep(Math.random() * 2500);
        await killSafely('at a random moment after protection was restored');
        await startWatch();
      }
      await settle('closed', cycle);
    }

    await until(
      'every alert acknowledged',
      () => hooks.requests.filter((r) => r.answered === 204).length >= 8,
      15_000,
    );
    // A few more rounds, so a late duplicate would show; then Ctrl-C.
    await sleep(2500);
    expect(await watching().stop()).toBe(0);

    const history = await runCli(['history', redisTarget(), '--format', 'json', '--store', storeDir]);
    expect(history.code, history.stderr).toBe(0);
    const timeline = JSON.parse(history.stdout) as StoreHistory;

    // The timeline continued across five processes: one first-seen, then opened/closed alternating,
    // one pair per removal (each state lasted >= 3 s, so each was seen), ids and times increasing.
    expect(timeline.events.map((e) => e.kind)).toEqual([
      'first-seen',
      ...Array.from({ length: 4 }, () => ['opened', 'closed']).flat(),
    ]);
    const ids = timeline.events.map((e) => Number(e.id.replace('lw-evt-', '')));
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    const times = timeline.events.map((e) => Date.parse(e.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);

    // No process printed an event another one had recorded (a kill may only drop a line, never repeat one).
    for (const event of timeline.events) {
      expect(allEvents().filter((e) => e.id === event.id).length).toBeLessThanOrEqual(1);
    }

    // Every window closed, and each brackets its removal (a probe's `at` is taken just after it read
    // the store, hence the small slack).
    expect(timeline.windows).toHaveLength(4);
    const slackMs = 500;
    timeline.windows.forEach((window, i) => {
      const removed = toggles[2 * i];
      const restored = toggles[2 * i + 1];
      if (removed === undefined || restored === undefined || window.closedAt === undefined) {
        throw new Error(`window ${i} has no toggles or is still open`);
      }
      expect(Date.parse(window.openedAfter ?? '')).toBeLessThanOrEqual(removed.end + slackMs);
      expect(Date.parse(window.openedAt)).toBeGreaterThanOrEqual(removed.start);
      expect(Date.parse(window.lastOpenAt)).toBeLessThanOrEqual(restored.end + slackMs);
      expect(Date.parse(window.closedAt)).toBeGreaterThanOrEqual(restored.start);
    });

    // The silent store's timeline did not double either.
    const silentHistory = await runCli(['history', silentTarget(), '--format', 'json', '--store', storeDir]);
    expect((JSON.parse(silentHistory.stdout) as StoreHistory).events.map((e) => e.kind)).toEqual([
      'first-seen',
    ]);

    // The receiver: each alerting event acknowledged once; requested once, or twice when a kill
    // caught its POST (the first time unanswered); nothing it was not meant to get.
    const alerting = timeline.events.filter((e) => e.kind !== 'first-seen');
    for (const request of hooks.requests) {
      expect(request.signatureValid).toBe(true);
      const id = String(request.headers['webhook-id']);
      expect(alerting.map((e) => e.id)).toContain(id);
      if (request.answered === 'hang') killedMidPost.add(id);
    }
    for (const event of alerting) {
      const requests = hooks.requests.filter((r) => r.headers['webhook-id'] === event.id);
      const acknowledged = requests.filter((r) => r.answered === 204);
      expect(acknowledged, `${event.kind} ${event.id} acknowledged`).toHaveLength(1);
      expect(requests, `${event.kind} ${event.id} requests`).toHaveLength(
        killedMidPost.has(event.id) ? 2 : 1,
      );
      expect(requests.at(-1)?.answered).toBe(204);
      expect((acknowledged[0]?.json as WatchEvent).id).toBe(event.id);
    }
    // The deliberate one: the first opening, caught mid-POST and sent again after the restart.
    expect(killedMidPost.has(alerting[0]?.id ?? '')).toBe(true);
    console.log(
      `${hooks.requests.length} webhook requests for ${alerting.length} alerts; ` +
        `resent after a kill caught them mid-POST: ${[...killedMidPost].join(', ')}`,
    );
  }, 240_000);
});
