import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WatchEvent } from '../../src/watch/watch-event.js';
import { startMosquitto, type PrivateMosquitto } from '../servers/mosquitto-server.js';
import { startPostgres, type PrivatePostgres } from '../servers/postgres-server.js';
import { startWebhookReceiver, type WebhookReceiver } from '../servers/webhook-receiver.js';
import { startWatch, type LeakwatchProcess } from '../watch-process.js';

/*
 * One `leakwatch watch` process over two private servers, PostgreSQL and Mosquitto, each named
 * without credentials (what an anonymous client sees). Each operator makes the mistake (pg_hba.conf
 * `trust`, `allow_anonymous true`) and undoes it; each store's timeline must say opened, then closed.
 */

const secret = `whsec_${randomBytes(32).toString('base64')}`;
const firstNewStoreMs = 120_000;
const transitionMs = 20_000;

/**
 * startPostgres resolves once the port accepts connections, which under load can be before the
 * server accepts sessions ("the database system is starting up"); seeding waits that out.
 */
async function seedWhenReady(server: PrivatePostgres, sql: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await server.psql(sql);
      return;
    } catch (error) {
      if (!String(error).includes('starting up') || Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

describe('leakwatch watch on private PostgreSQL and Mosquitto servers', () => {
  let postgres: PrivatePostgres;
  let mosquitto: PrivateMosquitto;
  let webhook: WebhookReceiver;
  let dir = '';
  // Whatever started is stopped, even when a sibling failed to start.
  const stoppers: (() => Promise<void>)[] = [];
  const keep = <T extends { stop(): Promise<void> }>(server: T): T => {
    stoppers.push(() => server.stop());
    return server;
  };
  let watch: LeakwatchProcess | undefined;
  let pgTarget: string;
  let mqttTarget: string;

  const running = (): LeakwatchProcess => {
    if (watch === undefined) throw new Error('watch did not start');
    return watch;
  };
  const eventOf = (store: string, kind: WatchEvent['kind']) => (e: WatchEvent) =>
    e.store.name === store && e.kind === kind;
  const kindsOf = (store: string) =>
    running()
      .events.filter((e) => e.store.name === store)
      .map((e) => `${e.kind}:${e.toState}`);

  beforeAll(async () => {
    [postgres, mosquitto, webhook] = await Promise.all([
      startPostgres({ auth: 'scram-sha-256', password: 'pg-Pa55-word!' }).then(keep),
      startMosquitto({ anonymous: false, users: { sensor: 'mqtt-Pa55-word!' } }).then(keep),
      startWebhookReceiver({ secret }).then(keep),
    ]);
    await seedWhenReady(
      postgres,
      `create table customers (id int primary key, email text not null, full_name text not null);
       insert into customers values
         (1, 'dana.fischer@example.com', 'Dana Fischer'),
         (2, 'emil.novak@example.org', 'Emil Novak'),
         (3, 'farah.haddad@example.net', 'Farah Haddad'),
         (4, 'gus.lindqvist@example.com', 'Gus Lindqvist');`,
    );
    await mosquitto.publish('home/42/owner', JSON.stringify({ email: 'dana.fischer@example.com' }), {
      retain: true,
    });
    dir = mkdtempSync(join(tmpdir(), 'lw-watch-pg-mqtt-'));
    pgTarget = `postgres://127.0.0.1:${postgres.port}/postgres`;
    mqttTarget = `mqtt://127.0.0.1:${mosquitto.port}`;
    watch = startWatch(
      [
        pgTarget,
        mqttTarget,
        '--json',
        '--interval',
        '1s',
        '--store',
        join(dir, 'state'),
        '--for',
        '3m',
        '--webhook',
        webhook.url,
        '--webhook-secret',
        secret,
      ],
      { env: { LEAKWATCH_WEBHOOK_SECRET: undefined } },
    );
    await Promise.all([
      watch.waitForEvent(eventOf(pgTarget, 'first-seen'), firstNewStoreMs),
      watch.waitForEvent(eventOf(mqttTarget, 'first-seen'), firstNewStoreMs),
    ]);
  }, firstNewStoreMs + 60_000);

  afterAll(async () => {
    await watch?.kill();
    await Promise.all(stoppers.map((stop) => stop()));
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('first sees both stores protected', () => {
    expect(kindsOf(pgTarget)).toEqual(['first-seen:protected']);
    expect(kindsOf(mqttTarget)).toEqual(['first-seen:protected']);
    const pg = running().events.find(eventOf(pgTarget, 'first-seen'));
    expect(pg?.store).toEqual({ name: pgTarget, target: pgTarget, protocol: 'postgres', tags: [] });
  });

  it(
    'postgres: pg_hba.conf trust opens it, scram-sha-256 closes it again',
    async () => {
      const before = Date.now();
      await postgres.setAuth('trust');
      const after = Date.now();
      const opened = await running().waitForEvent(eventOf(pgTarget, 'opened'), transitionMs);
      expect(opened).toMatchObject({ fromState: 'protected', toState: 'open' });
      expect(Date.parse(opened.window?.openedAfter ?? '')).toBeLessThan(after);
      expect(Date.parse(opened.window?.openedAt ?? '')).toBeGreaterThanOrEqual(before);
      // It reads as the anonymous client would, and says what the table holds.
      expect(opened.exposure?.categories).toContain('email');
      expect(opened.exposure?.subjects.total).toBe(4);

      await postgres.setAuth('scram-sha-256');
      const closed = await running().waitForEvent(eventOf(pgTarget, 'closed'), transitionMs);
      expect(closed).toMatchObject({ fromState: 'open', toState: 'protected' });
      expect(closed.window?.openedAt).toBe(opened.window?.openedAt);
      expect(closed.window?.closedAt).toBe(closed.at);
      expect(closed.window?.durationMs).toBeGreaterThan(0);
      expect(kindsOf(pgTarget)).toEqual(['first-seen:protected', 'opened:open', 'closed:protected']);
      expect(running().stdout + running().stderr).not.toContain('dana.fischer');
    },
    2 * transitionMs + 10_000,
  );

  it(
    'mosquitto: allow_anonymous true opens it, false closes it again',
    async () => {
      const before = Date.now();
      await mosquitto.setAnonymous(true);
      const after = Date.now();
      const opened = await running().waitForEvent(eventOf(mqttTarget, 'opened'), transitionMs);
      expect(opened).toMatchObject({ fromState: 'protected', toState: 'open' });
      expect(Date.parse(opened.window?.openedAfter ?? '')).toBeLessThan(after);
      expect(Date.parse(opened.window?.openedAt ?? '')).toBeGreaterThanOrEqual(before);

      await mosquitto.setAnonymous(false);
      const closed = await running().waitForEvent(eventOf(mqttTarget, 'closed'), transitionMs);
      expect(closed).toMatchObject({ fromState: 'open', toState: 'protected' });
      expect(closed.window?.openedAt).toBe(opened.window?.openedAt);
      expect(closed.window?.durationMs).toBeGreaterThan(0);
      expect(kindsOf(mqttTarget)).toEqual(['first-seen:protected', 'opened:open', 'closed:protected']);
    },
    2 * transitionMs + 10_000,
  );

  it('alerted each change once, signed, and stops on SIGTERM with exit 0', async () => {
    const alerting = running().events.filter((e) => e.kind !== 'first-seen');
    expect(alerting).toHaveLength(4);
    await webhook.waitFor(alerting.length, 10_000);
    expect((await running().stop()).code).toBe(0);
    expect(webhook.requests).toHaveLength(alerting.length);
    expect(webhook.requests.every((r) => r.signatureValid === true)).toBe(true);
    expect(webhook.requests.map((r) => r.headers['webhook-id']).sort()).toEqual(
      alerting.map((e) => e.id).sort(),
    );
    // The other store's probes never disturbed this one's timeline: no unreachable, no error.
    expect(running().events.every((e) => e.toState === 'open' || e.toState === 'protected')).toBe(true);
  }, 30_000);
});
