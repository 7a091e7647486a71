import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoreHistory } from '../../src/watch/status-view.js';
import type { WatchEvent } from '../../src/watch/watch-event.js';
import { runCli } from '../run-cli.js';
import { startRedis, type PrivateRedis } from '../servers/redis-server.js';
import { startWebhookReceiver, type WebhookReceiver } from '../servers/webhook-receiver.js';
import { startWatch, type LeakwatchProcess } from '../watch-process.js';

/*
 * `leakwatch watch --config leakwatch.yaml` (names, owners, tags, webhooks, intervals from the file)
 * and the delivery guarantee against a flaky receiver. Both runs share one embedded store directory,
 * one after the other, as a user restarting watch with another setup would.
 */

const firstNewStoreMs = 120_000;
const transitionMs = 20_000;
const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

describe('leakwatch watch with a config file, and with a receiver that fails at first', () => {
  let dir = '';
  const storeDir = () => join(dir, 'state');
  const started: LeakwatchProcess[] = [];
  // Whatever started is stopped, even when a sibling failed to start.
  const servers: { stop(): Promise<void> }[] = [];
  const keep = <T extends { stop(): Promise<void> }>(server: T): T => {
    servers.push(server);
    return server;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lw-watch-config-'));
  });

  afterAll(async () => {
    await Promise.all(started.map((p) => p.kill()));
    await Promise.all(servers.map((s) => s.stop()));
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it(
    'takes stores, owner, tags, webhooks and the interval from leakwatch.yaml; payloads carry owner and tags',
    async () => {
      const secret = newSecret();
      const envSecret = newSecret();
      const [redis, hook, envHook]: [PrivateRedis, WebhookReceiver, WebhookReceiver] = await Promise.all([
        startRedis(['--requirepass', 'cfg-Pa55-word!']).then(keep),
        startWebhookReceiver({ secret }).then(keep),
        startWebhookReceiver({ secret: envSecret }).then(keep),
      ]);
      await redis.cli('HSET', 'account:1', 'email', 'ines.moreau@example.com', 'name', 'Ines Moreau');
      await redis.cli('HSET', 'account:2', 'email', 'jon.berg@example.org', 'name', 'Jon Berg');
      const target = `redis://127.0.0.1:${redis.port}`;
      const config = join(dir, 'leakwatch.yaml');
      writeFileSync(
        config,
        [
          'intervals:',
          '  protection: 1s',
          'stores:',
          '  - name: sessions-cache',
          `    target: ${target}`,
          '    owner: platform-team',
          '    tags: [prod, sessions]',
          'alerts:',
          '  webhooks:',
          `    - url: ${hook.url}`,
          `      secret: ${secret}`,
          `    - url: http://127.0.0.1:${envHook.port}/from-env`,
          '      secretEnv: LW_TEST_HOOK_SECRET',
          '',
        ].join('\n'),
      );

      const watch = startWatch(['--config', config, '--json', '--store', storeDir(), '--for', '3m'], {
        env: { LW_TEST_HOOK_SECRET: envSecret, LEAKWATCH_WEBHOOK_SECRET: undefined },
      });
      started.push(watch);
      const first = await watch.waitForEvent(() => true, firstNewStoreMs);
      expect(first).toMatchObject({
        kind: 'first-seen',
        toState: 'protected',
        store: {
          name: 'sessions-cache',
          target,
          protocol: 'redis',
          owner: 'platform-team',
          tags: ['prod', 'sessions'],
        },
      });
      // The interval came from the file, and both webhooks are channels.
      await watch.waitForStderr(/watching 1 store\(s\) every 1s; 2 alert channel\(s\)/, 10_000);

      await redis.setPassword('');
      const opened = await watch.waitForEvent((e) => e.kind === 'opened', transitionMs);
      expect(opened.exposure?.subjects.total).toBe(2);
      await redis.setPassword('cfg-Pa55-word-2!');
      const closed = await watch.waitForEvent((e) => e.kind === 'closed', transitionMs);
      expect(closed.window?.durationMs).toBeGreaterThan(0);

      await Promise.all([hook.waitFor(2, 10_000), envHook.waitFor(2, 10_000)]);
      expect((await watch.stop()).code).toBe(0);
      expect(watch.events.map((e) => e.kind)).toEqual(['first-seen', 'opened', 'closed']);
      for (const receiver of [hook, envHook]) {
        expect(receiver.requests).toHaveLength(2);
        expect(receiver.requests.map((r) => r.headers['webhook-id'])).toEqual([opened.id, closed.id]);
        expect(receiver.requests.every((r) => r.signatureValid === true)).toBe(true);
        for (const request of receiver.requests) {
          const payload = request.json as WatchEvent;
          expect(payload.store).toEqual({
            name: 'sessions-cache',
            target,
            protocol: 'redis',
            owner: 'platform-team',
            tags: ['prod', 'sessions'],
          });
        }
      }
      expect(envHook.requests[0]?.path).toBe('/from-env');
      expect(watch.stdout + watch.stderr).not.toContain(secret);
      expect(watch.stdout + watch.stderr).not.toContain(envSecret);

      // The store answers to its configured name.
      const history = await runCli(['history', 'sessions-cache', '--store', storeDir(), '--format', 'json']);
      expect(history.code).toBe(0);
      const parsed = JSON.parse(history.stdout) as StoreHistory;
      expect(parsed.store).toMatchObject({
        name: 'sessions-cache',
        owner: 'platform-team',
        tags: ['prod', 'sessions'],
      });
      expect(parsed.events.map((e) => e.id)).toEqual(watch.events.map((e) => e.id));
    },
    firstNewStoreMs + 2 * transitionMs + 40_000,
  );

  it(
    'retries a webhook answered 503 twice and delivers the alert once, under one webhook-id',
    async () => {
      const secret = newSecret();
      const [redis, hook]: [PrivateRedis, WebhookReceiver] = await Promise.all([
        startRedis().then(keep),
        startWebhookReceiver({ secret, respond: (n) => (n <= 2 ? 503 : 200) }).then(keep),
      ]);
      await redis.cli('SET', 'profile:7', JSON.stringify({ email: 'kim.olsen@example.com' }));
      const target = `redis://127.0.0.1:${redis.port}`;
      const watch = startWatch(
        [
          target,
          '--json',
          '--interval',
          '1s',
          '--store',
          storeDir(),
          '--for',
          '3m',
          '--webhook',
          hook.url,
          '--webhook-secret',
          secret,
        ],
        { env: { LEAKWATCH_WEBHOOK_SECRET: undefined } },
      );
      started.push(watch);
      // Open from the first probe: first-seen is the alert.
      const first = await watch.waitForEvent(() => true, firstNewStoreMs);
      expect(first).toMatchObject({ kind: 'first-seen', fromState: 'unknown', toState: 'open' });
      expect(first.window?.openedAfter).toBeUndefined();

      // Backoff 2 s then 4 s (±20%): the third attempt comes within about 8 s.
      const requests = await hook.waitFor(3, 20_000);
      expect(requests.map((r) => r.answered)).toEqual([503, 503, 200]);
      expect(requests.map((r) => r.headers['webhook-id'])).toEqual([first.id, first.id, first.id]);
      expect(requests.every((r) => r.signatureValid === true)).toBe(true);
      for (const request of requests) expect(request.json).toEqual(first);
      await watch.waitForStderr(/delivered to webhook/, 5_000);
      expect(watch.stderr).toMatch(
        new RegExp(`alert ${first.id} to webhook\\S* failed: .*503.*; will retry`),
      );
      expect(watch.stderr.match(/; will retry/g)).toHaveLength(2);

      // Acknowledged once: nothing more is sent for it, however long the watch keeps running.
      await new Promise((r) => setTimeout(r, 3_000));
      expect((await watch.stop()).code).toBe(0);
      expect(hook.requests).toHaveLength(3);
      expect(watch.events.map((e) => e.kind)).toEqual(['first-seen']);
    },
    firstNewStoreMs + 40_000,
  );
});
