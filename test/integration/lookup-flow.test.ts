import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeIncident } from '../../src/incident/incident-store.js';
import { lookupTokenHash } from '../../src/server/lookup-app.js';
import { parseStoreLocation, Store } from '../../src/store/store.js';
import { freePort } from '../servers/free-port.js';
import { startSmtpSink, type SmtpSink } from '../servers/smtp-sink.js';
import { runCli } from '../run-cli.js';
import { seedIncident } from '../seed-incident.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const ann = 'Ann.Lee@example.com'; // body metrics leaked
const bob = 'bob@example.org'; // WiFi name leaked, no body metrics
const dan = 'dan@example.net'; // only in a closed incident
const nobody = 'nobody@example.com';
const expiredToken = 'E'.repeat(43);

let dir: string;
let sink: SmtpSink;
let child: ChildProcessWithoutNullStreams;
let output = '';
let base: string;

function decodeQuotedPrintable(body: string): string {
  return body
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

async function lookup(email: string): Promise<Response> {
  const page = await fetch(`${base}/`);
  const cookie = /^([^;]+)/.exec(page.headers.get('set-cookie') ?? '')?.[1] ?? '';
  const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
  return fetch(`${base}/lookup`, {
    method: 'POST',
    headers: { cookie, origin: base, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email, csrf }).toString(),
    redirect: 'manual',
  });
}

function linkIn(to: string): string {
  const message = sink.messages.find((m) => m.envelope.to.includes(to));
  const link = /http:\/\/127\.0\.0\.1:\d+\/r\/[A-Za-z0-9_-]{43}/.exec(
    decodeQuotedPrintable(message?.body ?? ''),
  )?.[0];
  if (link === undefined) throw new Error('no link in the message');
  return link;
}

beforeAll(async () => {
  sink = await startSmtpSink();
  dir = mkdtempSync(join(tmpdir(), 'lw-lookup-'));
  const storeDir = join(dir, 'store');
  process.env['LEAKWATCH_KEY_FILE'] = join(dir, 'secret.key');
  const store = await Store.open(parseStoreLocation(storeDir), 'test');
  try {
    await seedIncident(store, 'analytics-copy', [
      { email: ann, categories: ['email', 'wifi_ssid', 'health_metric'] },
      { email: bob, categories: ['email', 'wifi_ssid'] },
    ]);
    const old = await seedIncident(store, 'old-copy', [{ email: dan, categories: ['email', 'password'] }]);
    await closeIncident(store, old, 'handled');
    const keys = store.peopleKeys();
    await store.db.query(
      `insert into lookup_token (token_hash, contact_hash, created_at, expires_at)
       values ($1, 'x', now() - interval '25 hours', now() - interval '1 hour')`,
      [lookupTokenHash(keys, expiredToken)],
    );
  } finally {
    await store.close();
  }
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  child = spawn(
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
    ],
    { cwd: root, env: { ...process.env, NO_COLOR: '1', LEAKWATCH_KEY_FILE: join(dir, 'secret.key') } },
  );
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`serve did not start: ${output}`));
    }, 90_000);
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
      if (output.includes('page on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${output}`));
    });
  });
}, 150_000);

afterAll(async () => {
  if (child.exitCode === null) {
    child.kill('SIGKILL');
  }
  await sink.stop();
  delete process.env['LEAKWATCH_KEY_FILE'];
  rmSync(dir, { recursive: true, force: true });
});

describe('leakwatch serve: the "Am I affected?" flow end to end', () => {
  it('mails a one-time link only to affected addresses, and each link shows only its own person', async () => {
    const answers = [];
    for (const email of [ann, nobody, dan, bob]) {
      const res = await lookup(email);
      answers.push({ status: res.status, body: await res.text() });
    }
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([200]));
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    expect(answers[0]?.body).toContain(
      'If this address is in our records, we have sent a one-time link to it.',
    );

    await sink.waitFor(2, 10_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(sink.messages.map((m) => m.envelope.to).sort()).toEqual([[ann], [bob]]);

    const annPage = await fetch(linkIn(ann));
    expect(annPage.status).toBe(200);
    expect(annPage.headers.get('referrer-policy')).toBe('no-referrer');
    const annHtml = await annPage.text();
    expect(annHtml).toContain('body measurements');
    expect(annHtml).toContain('name of your WiFi network');
    expect(annHtml).toContain('2019-12-26 11:00 UTC');
    expect(annHtml).not.toContain('password (including WiFi passwords)'); // dan's, closed incident

    const bobHtml = await (await fetch(linkIn(bob))).text();
    expect(bobHtml).toContain('name of your WiFi network');
    expect(bobHtml).not.toContain('body measurements');

    // One time only; expired and unknown tokens reveal nothing.
    const again = await fetch(linkIn(ann));
    expect(again.status).toBe(410);
    const expired = await fetch(`${base}/r/${expiredToken}`);
    expect(expired.status).toBe(410);
    const unknown = await fetch(`${base}/r/${'U'.repeat(43)}`);
    expect(unknown.status).toBe(404);
    expect(await expired.text()).toBe(await again.text());

    // Over a real socket: an oversized form is refused without reading it all.
    const big = await fetch(`${base}/lookup`, {
      method: 'POST',
      headers: { origin: base, 'content-type': 'application/x-www-form-urlencoded' },
      body: `email=${'a'.repeat(64 * 1024)}`,
    });
    expect(big.status).toBe(413);
    expect(big.headers.get('content-security-policy')).toContain("default-src 'none'");
  }, 60_000);

  it('refuses a non-loopback bind without --public', async () => {
    const run = await runCli([
      'serve',
      '--listen',
      '0.0.0.0:0',
      '--smtp',
      sink.url,
      '--from',
      'a@example.com',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--public/);
  }, 60_000);

  it('stops cleanly and never wrote an address to its output or the lookup tokens', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const email of [ann, bob, dan, nobody]) {
      expect(output.toLowerCase()).not.toContain(email.toLowerCase());
      expect(output).not.toContain(email.split('@')[0]);
    }
    const store = await Store.open(parseStoreLocation(join(dir, 'store')), 'test');
    try {
      const tokens = await store.db.query<{ used: boolean }>(
        'select token_hash, contact_hash, used_at is not null as used from lookup_token',
      );
      expect(tokens).toHaveLength(3);
      expect(JSON.stringify(tokens)).not.toContain('@');
      expect(tokens.filter((t) => t.used)).toHaveLength(2);
    } finally {
      await store.close();
    }
  }, 60_000);
});
