import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoreHistory, StoreStatus } from '../../src/watch/status-view.js';
import type { WatchEvent } from '../../src/watch/watch-event.js';
import { runCli } from '../run-cli.js';
import { freePort } from '../servers/free-port.js';
import { startRedis, type PrivateRedis } from '../servers/redis-server.js';
import { startSmtpSink, type SmtpSink } from '../servers/smtp-sink.js';
import { startWebhookReceiver, type WebhookReceiver } from '../servers/webhook-receiver.js';
import { startWatch, type LeakwatchProcess } from '../watch-process.js';

/*
 * `leakwatch watch` as a user runs it, against a private Redis whose operator removes the password
 * (the mistake) and puts one back: the timeline, the alerts on every channel, `status` and `history`
 * beside the running watch and after it, and the Prometheus endpoint. The steps run in order and
 * share one watch process (a new embedded store costs many seconds of initdb).
 */

const secret = `whsec_${randomBytes(32).toString('base64')}`;
// Four keys, three people: user:4 is a second copy of Alice's record, which must count once.
const seed: Record<string, object> = {
  'user:1': { email: 'alice.keller@example.com', name: 'Alice Keller', plan: 'pro' },
  'user:2': { email: 'bruno.diaz@example.org', name: 'Bruno Diaz', plan: 'free' },
  'user:3': { email: 'chen.wei@example.net', name: 'Chen Wei', plan: 'free' },
  'user:4': { email: 'alice.keller@example.com', name: 'Alice Keller', plan: 'pro' },
};
const seededPeople = 3;
const firstNewStoreMs = 120_000;
const transitionMs = 20_000;

function sample(metrics: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of metrics.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const given = new Map<string, string>();
    for (const label of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      given.set(label[1] ?? '', label[2] ?? '');
    }
    if (Object.entries(labels).every(([key, value]) => given.get(key) === value)) return Number(match[3]);
  }
  return undefined;
}

async function pollMetrics(
  url: string,
  until: (text: string) => boolean,
  timeoutMs: number,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < deadline) {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    expect(response.status).toBe(200);
    text = await response.text();
    if (until(text)) return text;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`metrics never matched within ${timeoutMs} ms:\n${text}`);
}

describe('leakwatch watch on a private Redis: protection removed, caught, alerted, restored', () => {
  let redis: PrivateRedis;
  let webhook: WebhookReceiver;
  let slack: WebhookReceiver;
  let smtp: SmtpSink;
  let metricsPort: number;
  let dir = '';
  // Whatever started is stopped, even when a sibling failed to start.
  const stoppers: (() => Promise<void>)[] = [];
  const keep = <T extends { stop(): Promise<void> }>(server: T): T => {
    stoppers.push(() => server.stop());
    return server;
  };
  let watch: LeakwatchProcess | undefined;
  let target: string;
  const mistake = { before: 0, after: 0 };
  const undo = { before: 0, after: 0 };

  const storeDir = () => join(dir, 'state');
  const isEvent = (kind: WatchEvent['kind']) => (e: WatchEvent) => e.kind === kind;
  const running = (): LeakwatchProcess => {
    if (watch === undefined) throw new Error('watch did not start');
    return watch;
  };

  beforeAll(async () => {
    [redis, webhook, slack, smtp, metricsPort] = await Promise.all([
      startRedis(['--requirepass', 'redis-Pa55-word!']).then(keep),
      startWebhookReceiver({ secret }).then(keep),
      startWebhookReceiver().then(keep),
      startSmtpSink().then(keep),
      freePort(),
    ]);
    for (const [key, value] of Object.entries(seed)) await redis.cli('SET', key, JSON.stringify(value));
    dir = mkdtempSync(join(tmpdir(), 'lw-watch-redis-'));
    target = `redis://127.0.0.1:${redis.port}`;
  }, 60_000);

  afterAll(async () => {
    await watch?.kill();
    await Promise.all(stoppers.map((stop) => stop()));
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it(
    'records the protected store as first seen, without alerting',
    async () => {
      watch = startWatch(
        [
          target,
          '--json',
          '--interval',
          '1s',
          '--store',
          storeDir(),
          '--for',
          '4m',
          '--webhook',
          webhook.url,
          '--slack-webhook',
          slack.url,
          '--email-to',
          'oncall@example.com',
          '--smtp',
          smtp.url,
          '--metrics',
          `127.0.0.1:${metricsPort}`,
        ],
        // The secret by environment, as the help suggests for keeping it out of `ps`.
        { env: { LEAKWATCH_WEBHOOK_SECRET: secret } },
      );
      const first = await watch.waitForEvent(() => true, firstNewStoreMs);
      expect(first).toMatchObject({
        kind: 'first-seen',
        fromState: 'unknown',
        toState: 'protected',
        store: { name: target, target, protocol: 'redis', tags: [] },
      });
      expect(first.window).toBeUndefined();
      await watch.waitForStderr(/watching 1 store\(s\) every 1s; 3 alert channel\(s\)/, 10_000);
      expect(watch.stderr).toContain(`metrics at http://127.0.0.1:${metricsPort}/metrics`);
      // The password never reaches output: the store was named without one, and the seeding's is not
      // the watcher's business.
      expect(watch.stdout + watch.stderr).not.toContain('redis-Pa55-word!');
    },
    firstNewStoreMs + 20_000,
  );

  it('refuses a second watch on the same store directory, naming the running pid', async () => {
    const lock = JSON.parse(readFileSync(join(storeDir(), 'leakwatch.lock'), 'utf8')) as {
      pid: number;
      api?: { url: string };
    };
    expect(lock.pid).toBe(running().pid);
    expect(lock.api?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const second = await runCli(['watch', target, '--interval', '1s', '--store', storeDir(), '--for', '5s']);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`pid ${running().pid}`);
    expect(second.stderr).toContain('leakwatch watch');
    expect(second.stdout).toBe('');
    // The first one is unharmed.
    expect(running().exit).toBeUndefined();
  }, 60_000);

  it(
    'catches the password removal within seconds, with the exposure window and what it exposes',
    async () => {
      mistake.before = Date.now();
      await redis.setPassword('');
      mistake.after = Date.now();
      const opened = await running().waitForEvent(isEvent('opened'), transitionMs);
      expect(opened).toMatchObject({ fromState: 'protected', toState: 'open', store: { name: target } });
      const window = opened.window;
      if (window === undefined) throw new Error('the opened event has no window');
      // The last protected probe came before the mistake, the first open one after it.
      expect(window.openedAfter).toBeDefined();
      expect(Date.parse(window.openedAfter ?? '')).toBeLessThan(mistake.after);
      expect(Date.parse(window.openedAt)).toBeGreaterThanOrEqual(mistake.before);
      expect(window.openedAt).toBe(opened.at);
      expect(window.closedAt).toBeUndefined();
      // At --interval 1s (±20% jitter) plus a probe it takes a second or two; 10 s is the budget at
      // default settings, kept here so a loaded machine does not fail the test.
      expect(Date.parse(opened.at) - mistake.after).toBeLessThan(10_000);
      const exposure = opened.exposure;
      if (exposure === undefined) throw new Error('the opened event says nothing about the exposure');
      expect(exposure.categories).toContain('email');
      expect(exposure.subjects.total).toBe(seededPeople);
      expect(exposure.subjects.byCategory['email']).toBe(seededPeople);
      expect(exposure.records).toBe(Object.keys(seed).length);
      // Counts and categories, never the values.
      expect(running().stdout).not.toContain('alice.keller');
      expect(running().stdout).not.toContain('example.com');
    },
    transitionMs + 5_000,
  );

  it('status and history answer beside the running watch, through its status API', async () => {
    // All at once: they ask the running watch, which holds the store, rather than open it.
    const [status, history, historyText, unknown] = await Promise.all([
      runCli(['status', '--store', storeDir(), '--format', 'json']),
      runCli(['history', target, '--store', storeDir(), '--format', 'json']),
      runCli(['history', target, '--store', storeDir()]),
      runCli(['history', 'redis://127.0.0.1:1', '--store', storeDir()]),
    ]);
    expect(status.stderr).toBe('');
    // Exit 1: something watched is open (for scripts asking "is anything open?").
    expect(status.code).toBe(1);
    const statuses = JSON.parse(status.stdout) as StoreStatus[];
    expect(statuses).toHaveLength(1);
    const row = statuses[0];
    expect(row).toMatchObject({ name: target, target, protocol: 'redis', state: 'open', watched: true });
    expect(row?.exposureWindow?.closedAt).toBeUndefined();
    expect(row?.exposure?.subjects.total).toBe(seededPeople);

    expect(history.code).toBe(0);
    const parsed = JSON.parse(history.stdout) as StoreHistory;
    expect(parsed.store.state).toBe('open');
    expect(parsed.events.map((e) => e.kind)).toEqual(['first-seen', 'opened']);
    expect(parsed.events.map((e) => e.id)).toEqual(running().events.map((e) => e.id));
    expect(parsed.windows).toHaveLength(1);
    expect(parsed.windows[0]?.closedAt).toBeUndefined();
    expect(parsed.fields.some((f) => f.categories.includes('email'))).toBe(true);

    expect(historyText.code).toBe(0);
    expect(historyText.stdout).toContain(target);
    expect(historyText.stdout).toContain('still open');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no watched store named');
  }, 60_000);

  it('serves Prometheus metrics while watching: the open store, delivered alerts, probe durations', async () => {
    const url = `http://127.0.0.1:${metricsPort}/metrics`;
    const text = await pollMetrics(
      url,
      (t) =>
        sample(t, 'leakwatch_stores', { state: 'open' }) === 1 &&
        (sample(t, 'leakwatch_alerts_sent_total', { channel: 'webhook' }) ?? 0) >= 1,
      10_000,
    );
    expect(sample(text, 'leakwatch_stores', { state: 'protected' })).toBe(0);
    expect(sample(text, 'leakwatch_open_exposure_windows')).toBe(1);
    expect(sample(text, 'leakwatch_probe_duration_seconds_count', { protocol: 'redis' })).toBeGreaterThan(0);
    expect(sample(text, 'leakwatch_probes_total', { protocol: 'redis' })).toBeGreaterThan(0);
  });

  it(
    'sees the password restored and closes the window',
    async () => {
      undo.before = Date.now();
      await redis.setPassword('new-Pa55-word!');
      undo.after = Date.now();
      const closed = await running().waitForEvent(isEvent('closed'), transitionMs);
      const opened = running().events.find(isEvent('opened'));
      expect(closed).toMatchObject({ fromState: 'open', toState: 'protected' });
      const window = closed.window;
      if (window === undefined || opened?.window === undefined) throw new Error('no window');
      expect(window.openedAt).toBe(opened.window.openedAt);
      expect(window.openedAfter).toBe(opened.window.openedAfter);
      expect(window.closedAt).toBe(closed.at);
      expect(Date.parse(window.lastOpenAt)).toBeLessThan(undo.after);
      expect(Date.parse(window.closedAt ?? '')).toBeGreaterThanOrEqual(undo.before);
      expect(window.durationMs).toBe(Date.parse(closed.at) - Date.parse(window.openedAt));
      expect(window.durationMs).toBeGreaterThan(0);
      expect(running().events.map((e) => e.kind)).toEqual(['first-seen', 'opened', 'closed']);
    },
    transitionMs + 5_000,
  );

  it('status and history text show the closed window, still through the running watch', async () => {
    const [statusText, historyText] = await Promise.all([
      runCli(['status', '--store', storeDir()]),
      runCli(['history', target, '--store', storeDir()]),
    ]);
    expect(statusText.code).toBe(0);
    expect(statusText.stdout).toContain(target);
    expect(statusText.stdout).toContain('protected');
    expect(statusText.stdout).toContain('1 store(s), 0 open');
    expect(historyText.code).toBe(0);
    expect(historyText.stdout).toContain(target);
    expect(historyText.stdout).toContain('Exposure windows (1)');
    expect(historyText.stdout).toContain(`closed ${running().events[2]?.at ?? 'missing'}`);
    expect(historyText.stdout).toContain('Events (3)');
    expect(historyText.stdout).toMatch(/first-seen[\s\S]*opened[\s\S]*closed/);
    expect(historyText.stdout).not.toContain('alice.keller');
  }, 60_000);

  it('counts every delivered alert in the metrics and stops cleanly on SIGTERM', async () => {
    const text = await pollMetrics(
      `http://127.0.0.1:${metricsPort}/metrics`,
      (t) =>
        sample(t, 'leakwatch_stores', { state: 'protected' }) === 1 &&
        ['webhook', 'slack', 'email'].every(
          (channel) => sample(t, 'leakwatch_alerts_sent_total', { channel }) === 2,
        ),
      15_000,
    );
    expect(sample(text, 'leakwatch_stores', { state: 'open' })).toBe(0);
    expect(sample(text, 'leakwatch_open_exposure_windows')).toBe(0);

    const exit = await running().stop();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(running().stderr).toContain('stopping (SIGTERM)');
    // It gave the store back.
    expect(existsSync(join(storeDir(), 'leakwatch.lock'))).toBe(false);
  }, 30_000);

  it('sent exactly one signed webhook per alerting event, the event itself as body', () => {
    const alerting = running().events.filter((e) => e.kind !== 'first-seen');
    expect(alerting.map((e) => e.kind)).toEqual(['opened', 'closed']);
    expect(webhook.requests).toHaveLength(alerting.length);
    for (const [i, event] of alerting.entries()) {
      const request = webhook.requests[i];
      expect(request?.method).toBe('POST');
      expect(request?.path).toBe('/hooks/leakwatch');
      expect(request?.signatureValid).toBe(true);
      expect(request?.headers['webhook-id']).toBe(event.id);
      expect(request?.headers['content-type']).toMatch(/^application\/json/);
      expect(request?.json).toEqual(event);
    }
  });

  it('sent the Slack payload for each alerting event', () => {
    expect(slack.requests).toHaveLength(2);
    const [opened, closed] = slack.requests.map((r) => r.json as { text: string; blocks: unknown[] });
    expect(opened?.text).toContain(target);
    expect(opened?.text).toContain(`${seededPeople} people: email ${seededPeople}`);
    expect(opened?.blocks.length).toBeGreaterThan(1);
    expect(JSON.stringify(opened?.blocks)).toContain(running().events[1]?.id ?? 'missing');
    expect(closed?.text).toContain(target);
    expect(JSON.stringify(closed?.blocks)).toContain(running().events[2]?.id ?? 'missing');
    // A Slack webhook is not signed: no secret of the signed channel leaks to it.
    expect(slack.requests.every((r) => r.headers['webhook-signature'] === undefined)).toBe(true);
  });

  it('emailed one message per alerting event, its subject naming the store', () => {
    expect(smtp.messages).toHaveLength(2);
    for (const message of smtp.messages) {
      expect(message.envelope.to).toEqual(['oncall@example.com']);
      expect(message.subject).toContain(target);
    }
    expect(smtp.messages[0]?.subject).toContain('OPEN:');
    expect(smtp.messages[1]?.subject).toContain('CLOSED:');
    expect(smtp.messages.map((m) => m.raw).join('\n')).not.toContain('alice.keller');
  });

  it('status and history after the watch stopped read the store directly', async () => {
    const status = await runCli(['status', '--store', storeDir(), '--format', 'json']);
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    const statuses = JSON.parse(status.stdout) as StoreStatus[];
    expect(statuses).toHaveLength(1);
    expect(statuses[0]).toMatchObject({ name: target, state: 'protected', watched: true });
    expect(statuses[0]?.exposureWindow).toBeUndefined();

    // Not at once: without a running watch each of them takes the store's lock itself.
    const history = await runCli(['history', target, '--store', storeDir(), '--format', 'json']);
    expect(history.code).toBe(0);
    const parsed = JSON.parse(history.stdout) as StoreHistory;
    expect(parsed.events.map((e) => e.kind)).toEqual(['first-seen', 'opened', 'closed']);
    expect(parsed.events).toEqual(running().events);
    expect(parsed.windows).toHaveLength(1);
    const window = parsed.windows[0];
    expect(window?.closedAt).toBeDefined();
    expect(window?.durationMs).toBeGreaterThan(0);
    expect(window).toEqual(running().events[2]?.window);
  }, 90_000);
});
