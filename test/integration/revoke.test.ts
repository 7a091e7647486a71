import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AffectedPerson } from '../../src/classify/people-ledger.js';
import { UsageError } from '../../src/core/errors.js';
import { encryptText, keyedHash } from '../../src/core/sealed-text.js';
import type { IncidentRecord } from '../../src/incident/incident.js';
import { closeIncident, createIncident, loadIncident } from '../../src/incident/incident-store.js';
import {
  listRevocationBatches,
  planRevocation,
  runRevocation,
  type RevocationAction,
} from '../../src/incident/revoke.js';
import { parseStoreLocation, Store } from '../../src/store/store.js';
import { runCli } from '../run-cli.js';
import {
  startWebhookReceiver,
  type ReceivedRequest,
  type WebhookReceiver,
} from '../servers/webhook-receiver.js';

const secret = `whsec_${randomBytes(32).toString('base64')}`;
const root = fileURLToPath(new URL('../..', import.meta.url));

interface Body {
  type: string;
  action: RevocationAction;
  incident: string;
  batch: number;
  batches: number;
  subjects: { id: string; kind: string }[];
  issuedAt: string;
}

let dir: string;
let storePath: string;
let store: Store;
let storeId: number;
const receivers: WebhookReceiver[] = [];

/** `count` people with identifiers (user ids and emails alternating) and `anonymous` without. */
function people(
  tag: string,
  count: number,
  anonymous = 0,
): { people: AffectedPerson[]; identifiers: string[] } {
  const keys = store.peopleKeys();
  const identifiers: string[] = [];
  const list: AffectedPerson[] = [];
  for (let i = 1; i <= count; i++) {
    const email = `${tag}.person${String(i).padStart(4, '0')}@example.org`;
    const identifier = i % 2 === 0 ? `uid-${tag}-${String(i).padStart(4, '0')}` : email;
    identifiers.push(identifier);
    list.push({
      subjectHash: keyedHash(keys.hmacKey, `${tag}:${i}`),
      identifierKind: i % 2 === 0 ? 'user_id' : 'email',
      categories: ['email', 'api_token'],
      contactHash: keyedHash(keys.hmacKey, `email:${email}`),
      contact: encryptText(keys.encryptionKey, email),
      identifier: encryptText(keys.encryptionKey, identifier),
    });
  }
  for (let i = 1; i <= anonymous; i++) {
    list.push({
      subjectHash: keyedHash(keys.hmacKey, `${tag}:anon:${i}`),
      identifierKind: 'none',
      categories: ['wifi_ssid'],
    });
  }
  return { people: list, identifiers };
}

async function newIncident(
  tag: string,
  count: number,
  anonymous = 0,
): Promise<{ incident: IncidentRecord; identifiers: string[] }> {
  const made = people(tag, count, anonymous);
  const now = new Date().toISOString();
  const id = await createIncident(store, {
    storeId,
    windowId: null,
    awareAt: new Date(),
    detectedAt: new Date(),
    jurisdictions: ['gdpr'],
    measurement: {
      store: { name: 'analytics-copy', target: 'redis://127.0.0.1:1', protocol: 'redis', tags: [] },
      window: { openedAt: now, lastOpenAt: now, durationMs: 0 },
      categories: ['email', 'api_token'],
      subjects: { total: made.people.length, byCategory: { email: count, api_token: count } },
      reachable: count,
      fields: [],
    },
    people: made.people,
  });
  const incident = await loadIncident(store, id);
  if (incident === undefined) throw new Error('incident missing');
  return { incident, identifiers: made.identifiers };
}

async function receiver(options: Parameters<typeof startWebhookReceiver>[0] = {}): Promise<WebhookReceiver> {
  const started = await startWebhookReceiver({ secret, ...options });
  receivers.push(started);
  return started;
}

const bodyOf = (r: ReceivedRequest): Body => r.json as Body;
const idOf = (r: ReceivedRequest): string => String(r.headers['webhook-id']);
const fast = { backoffMs: 50, maxBackoffMs: 2000, timeoutMs: 5000 };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lw-revoke-'));
  process.env['LEAKWATCH_KEY_FILE'] = join(dir, 'secret.key');
  storePath = join(dir, 'store');
  store = await Store.open(parseStoreLocation(storePath), 'test');
  const [row] = await store.upsertWatchedStores([
    { name: 'analytics-copy', target: 'redis://127.0.0.1:1', protocol: 'redis', intervalMs: 60_000 },
  ]);
  storeId = row!.id;
}, 120_000);

afterAll(async () => {
  for (const r of receivers) await r.stop();
  await store.close();
  delete process.env['LEAKWATCH_KEY_FILE'];
  delete process.env['LEAKWATCH_REVOKE_SECRET'];
  rmSync(dir, { recursive: true, force: true });
});

describe('leakwatch revoke: signed, idempotent batches to a real HTTP receiver', () => {
  it('delivers every subject exactly once, signed, in deterministic batches, and plans nothing new twice', async () => {
    const { incident, identifiers } = await newIncident('a', 23, 2);
    const hook = await receiver();
    const tally = await runRevocation(store, incident, {
      action: 'sessions.revoke',
      url: hook.url,
      secret,
      batchSize: 5,
      ...fast,
    });
    expect(tally).toMatchObject({
      batches: 5,
      subjects: 23,
      unidentified: 2,
      sent: 5,
      failed: 0,
      pending: 0,
    });
    expect(hook.requests).toHaveLength(5);
    expect(hook.requests.every((r) => r.signatureValid === true)).toBe(true);
    const bodies = hook.requests.map(bodyOf);
    expect(bodies.map((b) => b.batch)).toEqual([1, 2, 3, 4, 5]);
    expect(bodies.map((b) => b.subjects.length)).toEqual([5, 5, 5, 5, 3]);
    expect(bodies[0]).toMatchObject({
      type: 'leakwatch.revocation',
      action: 'sessions.revoke',
      incident: incident.ref,
      batches: 5,
    });
    expect(bodies[0]!.subjects[0]).toEqual({ id: identifiers[0], kind: 'email' });
    expect(bodies[0]!.subjects[1]).toEqual({ id: identifiers[1], kind: 'user_id' });
    const delivered = bodies.flatMap((b) => b.subjects.map((s) => s.id));
    expect(delivered).toEqual(identifiers);
    expect(hook.requests.map(idOf)).toEqual(
      [1, 2, 3, 4, 5].map((n) => `lw-rev-${incident.id}-sessions.revoke-${n}`),
    );

    // Idempotent: the plan is complete, a rerun sends nothing and records nothing new.
    expect(await planRevocation(store, incident.id, 'sessions.revoke', 5)).toMatchObject({
      planned: 0,
      batches: 5,
    });
    const again = await runRevocation(store, incident, {
      action: 'sessions.revoke',
      url: hook.url,
      secret,
      ...fast,
    });
    expect(again.thisRun).toEqual({ sent: 0, failed: 0, retries: 0, resent: [] });
    expect(hook.requests).toHaveLength(5);
    const timeline = (await loadIncident(store, incident.id))!.timeline.filter(
      (t) => t.kind === 'revocation',
    );
    expect(timeline).toHaveLength(1);
    expect(timeline[0]!.detail).toMatch(/^sessions\.revoke: 5 of 5 batches \(23 of 23 people\) acknowledged/);

    // Two actions: separate batch series with their own webhook-ids, each subject once per action.
    const rotate = await runRevocation(store, incident, {
      action: 'tokens.rotate',
      url: hook.url,
      secret,
      batchSize: 10,
      ...fast,
    });
    expect(rotate).toMatchObject({ batches: 3, sent: 3 });
    const rotated = hook.requests.slice(5);
    expect(rotated.map(idOf)).toEqual([1, 2, 3].map((n) => `lw-rev-${incident.id}-tokens.rotate-${n}`));
    expect(rotated.flatMap((r) => bodyOf(r).subjects.map((s) => s.id))).toEqual(identifiers);
    const log = await listRevocationBatches(store, incident.id);
    expect(log.filter((b) => b.action === 'sessions.revoke')).toHaveLength(5);
    expect(log.filter((b) => b.action === 'tokens.rotate')).toHaveLength(3);
    expect(log.every((b) => b.status === 'sent' && b.receipt?.status === 204 && b.attempts === 1)).toBe(true);
  }, 30_000);

  it('retries a 503 with the same webhook-id and honours a 429 Retry-After', async () => {
    const { incident } = await newIncident('b', 4);
    const hook503 = await receiver({
      respond: (n) => (n === 1 ? 503 : 200),
      answer: () => ({ body: '{"id":"rcpt-1"}' }),
    });
    const tally = await runRevocation(store, incident, {
      action: 'sessions.revoke',
      url: hook503.url,
      secret,
      batchSize: 2,
      ...fast,
    });
    expect(tally).toMatchObject({ sent: 2, failed: 0, thisRun: { retries: 1 } });
    // Batch 2 goes out while batch 1 waits for its retry; the retry carries batch 1's webhook-id.
    expect(hook503.requests.map((r) => r.answered)).toEqual([503, 200, 200]);
    const retried = hook503.requests.filter((r) => idOf(r) === idOf(hook503.requests[0]!));
    expect(retried.map((r) => r.answered)).toEqual([503, 200]);
    expect(bodyOf(retried[1]!).subjects).toEqual(bodyOf(retried[0]!).subjects);
    expect(hook503.requests.every((r) => r.signatureValid === true)).toBe(true);
    const [first] = await listRevocationBatches(store, incident.id, 'sessions.revoke');
    expect(first).toMatchObject({ status: 'sent', attempts: 2, receipt: { status: 200, id: 'rcpt-1' } });

    const hook429 = await receiver({
      respond: (n) => (n === 1 ? 429 : 200),
      answer: (n) => (n === 1 ? { headers: { 'retry-after': '1' } } : undefined),
    });
    const arrivals: number[] = [];
    await runRevocation(store, incident, {
      action: 'tokens.rotate',
      url: hook429.url,
      secret,
      batchSize: 4,
      ...fast,
      onProgress: () => arrivals.push(Date.now()),
    });
    expect(hook429.requests.map((r) => r.answered)).toEqual([429, 200]);
    // The backoff alone would wait ~50 ms; the receiver asked for a second.
    const gap = arrivals[arrivals.length - 1]! - arrivals[0]!;
    expect(gap).toBeGreaterThanOrEqual(950);
    expect(gap).toBeLessThan(5000);
  }, 30_000);

  it('fails a batch answered 400 permanently, sends the others, and keeps identifiers out of receipts', async () => {
    const { incident, identifiers } = await newIncident('c', 9);
    const hook = await receiver({
      respond: (_n, json) => ((json as Body).batch === 2 ? 400 : 202),
      // A careless application echoes what it got; the receipt must not keep it.
      answer: (_n, json) => ({ body: `{"id":"x","echo":${JSON.stringify((json as Body).subjects[0]?.id)}}` }),
    });
    const notes: string[] = [];
    const tally = await runRevocation(store, incident, {
      action: 'integrations.unlink',
      url: hook.url,
      secret,
      batchSize: 3,
      ...fast,
      onNote: (t) => notes.push(t),
    });
    expect(tally).toMatchObject({ batches: 3, sent: 2, failed: 1, pending: 0 });
    expect(hook.requests).toHaveLength(3);
    const log = await listRevocationBatches(store, incident.id, 'integrations.unlink');
    expect(log.map((b) => [b.status, b.attempts])).toEqual([
      ['sent', 1],
      ['failed', 1],
      ['sent', 1],
    ]);
    expect(log[1]!.receipt?.status).toBe(400);
    expect(log[1]!.lastError).toMatch(/^HTTP 400/);
    const stored = JSON.stringify(log) + notes.join('\n');
    expect(stored).toContain('[subject]');
    for (const identifier of identifiers) expect(stored).not.toContain(identifier);
    const timeline = (await loadIncident(store, incident.id))!.timeline.filter(
      (t) => t.kind === 'revocation',
    );
    expect(timeline[0]?.detail).toMatch(/2 of 3 batches .*1 batch\(es\) failed permanently/);
  }, 30_000);

  it('refuses a closed incident: its identifiers are purged', async () => {
    const { incident } = await newIncident('d', 3);
    await closeIncident(store, incident.id, 'test');
    const closed = (await loadIncident(store, incident.id))!;
    const hook = await receiver();
    await expect(
      runRevocation(store, closed, { action: 'sessions.revoke', url: hook.url, secret }),
    ).rejects.toThrow(UsageError);
    expect(hook.requests).toHaveLength(0);
  });

  it('reads the next batch ahead while one is in flight without claiming it: a stopped run leaves it untouched', async () => {
    const { incident, identifiers } = await newIncident('f', 12);
    const stop = new AbortController();
    const hook = await receiver({
      // Slow enough that the look-ahead of batch 3 is done while batch 2 is in flight.
      delayMs: 100,
      respond: (n) => {
        if (n === 2) stop.abort();
        return 204;
      },
    });
    const first = await runRevocation(store, incident, {
      action: 'integrations.unlink',
      url: hook.url,
      secret,
      batchSize: 3,
      signal: stop.signal,
      ...fast,
    });
    expect(first.sent).toBeLessThanOrEqual(2);
    expect(first.pending).toBe(4 - first.sent);
    const untouched = (await listRevocationBatches(store, incident.id, 'integrations.unlink')).filter(
      (b) => b.status === 'pending',
    );
    expect(untouched.every((b) => b.attempts === 0)).toBe(true);

    const again = await runRevocation(store, incident, {
      action: 'integrations.unlink',
      url: hook.url,
      secret,
      ...fast,
    });
    // Nothing looks as if it had been in flight: the look-ahead took no lease.
    expect(again.thisRun.resent).toEqual([]);
    expect(again).toMatchObject({ sent: 4, pending: 0, failed: 0 });
    const acknowledged = new Map<string, string[]>();
    for (const r of hook.requests)
      acknowledged.set(
        idOf(r),
        bodyOf(r).subjects.map((s) => s.id),
      );
    expect([...acknowledged.values()].flat()).toEqual(identifiers);
    expect(hook.requests.every((r) => r.signatureValid === true)).toBe(true);
  }, 30_000);

  it('survives kill -9 mid-run: rerun acknowledges every batch, each webhook-id once but the one in flight', async () => {
    const { incident, identifiers } = await newIncident('e', 200);
    const { incident: closedOne } = await newIncident('f', 2);
    await closeIncident(store, closedOne.id, 'test');
    const hook = await receiver({ delayMs: 200 });
    await store.close();
    try {
      process.env['LEAKWATCH_REVOKE_SECRET'] = secret;
      const args = [
        'revoke',
        incident.ref,
        '--hook',
        hook.url,
        '--action',
        'sessions.revoke',
        '--batch',
        '5',
        '--store',
        storePath,
      ];
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
        cwd: root,
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let firstOut = '';
      child.stdout.on('data', (d: Buffer) => (firstOut += d.toString()));
      child.stderr.on('data', (d: Buffer) => (firstOut += d.toString()));
      const exited = new Promise<void>((resolve) =>
        child.on('close', () => {
          resolve();
        }),
      );
      await hook.waitFor(15, 90_000);
      child.kill('SIGKILL');
      await exited;
      const before = hook.requests.length;
      expect(before).toBeLessThan(40);

      delete process.env['LEAKWATCH_REVOKE_SECRET'];
      const rerun = await runCli([...args, '--secret', secret, '--format', 'json'], { timeoutMs: 90_000 });
      expect(rerun.stderr).not.toMatch(/internal error/);
      expect(rerun.code).toBe(0);
      const tally = JSON.parse(rerun.stdout) as {
        batches: number;
        sent: number;
        pending: number;
        thisRun: { resent: number[] };
      };
      expect(tally).toMatchObject({ batches: 40, sent: 40, pending: 0 });
      expect(tally.thisRun.resent.length).toBeLessThanOrEqual(1);
      if (tally.thisRun.resent.length === 1) expect(rerun.stderr).toMatch(/in flight .* same webhook-id/);

      const acknowledged = new Map<string, number>();
      for (const r of hook.requests) {
        expect(r.signatureValid).toBe(true);
        if (r.answered === 200 || r.answered === 204)
          acknowledged.set(idOf(r), (acknowledged.get(idOf(r)) ?? 0) + 1);
      }
      expect(acknowledged.size).toBe(40);
      const twice = [...acknowledged.values()].filter((n) => n > 1);
      expect(twice.length).toBeLessThanOrEqual(1);
      expect(twice.every((n) => n === 2)).toBe(true);
      expect(new Set(hook.requests.flatMap((r) => bodyOf(r).subjects.map((s) => s.id)))).toEqual(
        new Set(identifiers),
      );

      const receipts = await runCli([
        'revoke',
        incident.ref,
        '--receipts',
        '--format',
        'json',
        '--store',
        storePath,
      ]);
      expect(receipts.code).toBe(0);
      const log = JSON.parse(receipts.stdout) as {
        batches: { status: string; receipt?: { status: number } }[];
      };
      expect(log.batches).toHaveLength(40);
      expect(log.batches.every((b) => b.status === 'sent' && b.receipt?.status === 204)).toBe(true);
      const text = await runCli(['revoke', incident.ref, '--receipts', '--store', storePath]);
      expect(text.stdout.split('\n').filter((l) => l.includes(' sent '))).toHaveLength(40);

      const refused = await runCli([
        'revoke',
        closedOne.ref,
        '--hook',
        hook.url,
        '--secret',
        secret,
        '--action',
        'tokens.rotate',
        '--store',
        storePath,
      ]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/closed: the identifiers of its people were purged/);

      const printed = firstOut + rerun.stdout + rerun.stderr + receipts.stdout + text.stdout + refused.stderr;
      for (const identifier of identifiers) expect(printed).not.toContain(identifier);
      expect(printed).not.toContain(secret);
    } finally {
      store = await Store.open(parseStoreLocation(storePath), 'test');
    }
  }, 300_000);
});
