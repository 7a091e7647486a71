import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyedHash, type PeopleKeys } from '../core/sealed-text.js';
import { createLookupApp, type LinkRequest, type LookupAppDeps, type RedeemResult } from './lookup-app.js';
import { RateLimiter } from './rate-limiter.js';

const keys: PeopleKeys = { hmacKey: randomBytes(32), encryptionKey: randomBytes(32) };
const origin = 'http://127.0.0.1:8080';
const affected = 'Ann.Lee@Example.com';

function setup(overrides: Partial<LookupAppDeps> = {}) {
  const links: LinkRequest[] = [];
  const contacts = new Set([keyedHash(keys.hmacKey, 'email:ann.lee@example.com')]);
  const app = createLookupApp({
    keys,
    baseUrl: origin,
    contacts,
    sendLink: (request) => links.push(request),
    redeem: (): Promise<RedeemResult> => Promise.resolve('unknown'),
    log: () => undefined,
    ...overrides,
  });
  let client = 0;
  const env = (ip = `10.0.0.${++client}`) => ({ incoming: { socket: { remoteAddress: ip } } });
  const form = async (): Promise<{ cookie: string; token: string }> => {
    const res = await app.request('/', {}, env());
    const cookie = /^([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1] ?? '';
    const token = /name="csrf" value="([^"]+)"/.exec(await res.text())?.[1] ?? '';
    return { cookie, token };
  };
  const lookup = async (
    email: string,
    options: { ip?: string; origin?: string | null; token?: string; cookie?: string; body?: string } = {},
  ): Promise<Response> => {
    const f = await form();
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      host: '127.0.0.1:8080',
      cookie: options.cookie ?? f.cookie,
    };
    if (options.origin !== null) headers['origin'] = options.origin ?? origin;
    const body = options.body ?? new URLSearchParams({ email, csrf: options.token ?? f.token }).toString();
    return app.request('/lookup', { method: 'POST', headers, body }, env(options.ip));
  };
  return { app, links, lookup, form, env };
}

describe('POST /lookup', () => {
  it('answers affected and unaffected addresses with the same status and bytes; only the affected get a link', async () => {
    const { lookup, links } = setup();
    const a = await lookup(affected);
    const b = await lookup('nobody@example.org');
    expect(a.status).toBe(200);
    expect(b.status).toBe(a.status);
    expect(await b.text()).toBe(await a.text());
    expect([...a.headers.entries()]).toEqual([...b.headers.entries()]);
    expect(links).toHaveLength(1);
    expect(links[0]?.to).toBe(affected);
    expect(links[0]?.link).toMatch(/^http:\/\/127\.0\.0\.1:8080\/r\/[A-Za-z0-9_-]{43}$/);
    expect(links[0]?.contactHash).toBe(keyedHash(keys.hmacKey, 'email:ann.lee@example.com'));
    // Only the hash of the token is handed on for storage.
    expect(links[0]?.tokenHash).not.toContain(links[0]?.link.slice(-43));
  });

  it('rejects a POST without the CSRF token, with a forged token, or from another origin', async () => {
    const { lookup, links, form } = setup();
    expect((await lookup(affected, { token: '' })).status).toBe(403);
    expect((await lookup(affected, { token: 'x'.repeat(43) })).status).toBe(403);
    expect((await lookup(affected, { cookie: '' })).status).toBe(403);
    // A token from another visitor's cookie does not fit this cookie.
    const other = await form();
    expect((await lookup(affected, { token: other.token })).status).toBe(403);
    expect((await lookup(affected, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await lookup(affected, { origin: 'null' })).status).toBe(403);
    expect((await lookup(affected, { origin: null })).status).toBe(403);
    expect(links).toHaveLength(0);
    // Referer stands in for a missing Origin.
    const f = await form();
    const ok = await setup().app.request('/lookup', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: f.cookie,
        referer: `${origin}/`,
      },
      body: new URLSearchParams({ email: 'x@example.org', csrf: f.token }).toString(),
    });
    expect(ok.status).toBe(200);
  });

  it('sets an HttpOnly SameSite=Strict cookie, Secure and __Host- over https, with HSTS', async () => {
    const plain = await setup().app.request('/');
    expect(plain.headers.get('set-cookie')).toMatch(/^lookup_csrf=[^;]+;.*HttpOnly.*SameSite=Strict/);
    expect(plain.headers.get('set-cookie')).not.toMatch(/Secure/);
    expect(plain.headers.get('strict-transport-security')).toBeNull();
    const tls = await setup({ baseUrl: 'https://lookup.example.com' }).app.request('/');
    expect(tls.headers.get('set-cookie')).toMatch(/^__Host-lookup_csrf=.*Secure/);
    expect(tls.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
  });

  it('rejects bodies over 4 KiB with 413 and asks again for a malformed address', async () => {
    const { lookup, links } = setup();
    const big = await lookup(affected, { body: `email=${'a'.repeat(5000)}` });
    expect(big.status).toBe(413);
    const bad = await lookup('not an address');
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('Please enter an email address');
    expect(links).toHaveLength(0);
  });

  it('limits lookups per client and per address alike, with Retry-After and the same page', async () => {
    const { lookup } = setup({ limits: { lookupsPerMinute: 3, mailsPerHour: 2 } });
    for (let i = 0; i < 3; i++)
      expect((await lookup(`p${i}@example.org`, { ip: '10.9.9.9' })).status).toBe(200);
    const client = await lookup('p9@example.org', { ip: '10.9.9.9' });
    expect(client.status).toBe(429);
    expect(Number(client.headers.get('retry-after'))).toBeGreaterThan(0);
    // Per address: the same for an affected and an unaffected one, so the limit tells nothing.
    const answers: number[][] = [];
    for (const email of [affected, 'nobody@example.org']) {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await lookup(email)).status);
      answers.push(statuses);
    }
    expect(answers).toEqual([
      [200, 200, 429],
      [200, 200, 429],
    ]);
    const again = await lookup(affected);
    const other = await lookup('nobody@example.org');
    expect(await again.text()).toBe(await other.text());
    expect(again.headers.get('retry-after')).toBe(other.headers.get('retry-after'));
  });
});

describe('every response', () => {
  it('carries the security headers, on pages, errors and limits', async () => {
    const { app, lookup, env } = setup({ limits: { lookupsPerMinute: 1 } });
    const responses = [
      await app.request('/', {}, env()),
      await app.request('/nope', {}, env()),
      await app.request('/r/short', {}, env()),
      await app.request('/r/' + 'A'.repeat(43), {}, env()),
      await lookup(affected, { ip: '10.1.1.1' }),
      await lookup(affected, { ip: '10.1.1.1' }), // 429
      await lookup(affected, { token: 'x' }), // 403
      await lookup(affected, { body: 'x'.repeat(5000) }), // 413
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 404, 404, 404, 200, 429, 403, 413]);
    for (const res of responses) {
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("form-action 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("base-uri 'none'");
      expect(csp).toMatch(/style-src 'sha256-[A-Za-z0-9+/=]+'/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('permissions-policy')).toContain('camera=()');
      expect(res.headers.get('referrer-policy')).toMatch(/^(no-referrer|same-origin)$/);
    }
  });
});

describe('GET /r/:token', () => {
  it('shows only the categories of its own person, in plain words, and refuses used tokens with 410', async () => {
    let used = false;
    const { app, env } = setup({
      redeem: (): Promise<RedeemResult> => {
        if (used) return Promise.resolve('gone');
        used = true;
        return Promise.resolve({
          findings: [
            {
              categories: ['email', 'password_hash'],
              openedAfter: '2019-12-04T10:00:00Z',
              openedAt: '2019-12-04T10:05:00Z',
              closedAt: '2019-12-26T09:00:00Z',
              measuresTaken: 'We signed everyone out. <script>',
            },
          ],
        });
      },
    });
    const token = 'B'.repeat(43);
    const page = await app.request(`/r/${token}`, {}, env());
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('email address');
    expect(html).toContain('password in scrambled (hashed) form');
    expect(html).toContain('Change your password');
    expect(html).not.toContain('body measurements');
    expect(html).toContain('&lt;script&gt;');
    expect(html).toContain('2019-12-26 09:00 UTC');
    expect((await app.request(`/r/${token}`, {}, env())).status).toBe(410);
  });
});

describe('RateLimiter', () => {
  it('refills over time and keeps memory bounded', () => {
    const limiter = new RateLimiter(2, 1000, 100);
    expect(limiter.take('a', 0)).toBe(0);
    expect(limiter.take('a', 0)).toBe(0);
    expect(limiter.take('a', 0)).toBe(500);
    expect(limiter.take('a', 500)).toBe(0);
    for (let i = 0; i < 1000; i++) limiter.take(`k${i}`, 10_000 + i);
    expect(limiter.size).toBeLessThanOrEqual(100);
  });
});
