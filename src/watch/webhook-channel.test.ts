import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../core/errors.js';
import { createWebhookChannel, decodeWebhookSecret, signWebhook, verifyWebhook } from './webhook-channel.js';

// 32 bytes of key material, spelled out so the vector below can be recomputed by hand.
const keyBytes = Buffer.from('leakwatch-unit-test-key-32-bytes', 'utf8');
const secret = `whsec_${keyBytes.toString('base64')}`;

describe('signWebhook', () => {
  it('matches HMAC-SHA256 over "id.timestamp.body" keyed by the decoded secret, computed with node:crypto', () => {
    const id = 'evt_01JD4S7Y2Q';
    const timestamp = 1_795_298_465;
    const body = '{"kind":"opened","store":{"name":"analytics-es"}}';
    // The Standard Webhooks recipe, step by step, independent of the code under test.
    const expected = createHmac('sha256', keyBytes)
      .update(`${id}.${timestamp}.${body}`, 'utf8')
      .digest('base64');
    expect(keyBytes.length).toBe(32);
    expect(signWebhook(secret, id, timestamp, body)).toBe(`v1,${expected}`);
    // A bare base64 secret is the same key.
    expect(signWebhook(keyBytes.toString('base64'), id, timestamp, body)).toBe(`v1,${expected}`);
    // Bytes and the same string sign alike.
    expect(signWebhook(secret, id, timestamp, Buffer.from(body))).toBe(`v1,${expected}`);
  });

  it('reproduces the example vector of the Standard Webhooks reference libraries', () => {
    // From the test suites of github.com/standard-webhooks/standard-webhooks (libraries/*).
    expect(
      signWebhook(
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        'msg_p5jXN8AQM9LWM0D4loKWxJek',
        1614265330,
        '{"test": 2432232314}',
      ),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('changes with every signed part', () => {
    const base = signWebhook(secret, 'a', 1, 'body');
    expect(signWebhook(secret, 'b', 1, 'body')).not.toBe(base);
    expect(signWebhook(secret, 'a', 2, 'body')).not.toBe(base);
    expect(signWebhook(secret, 'a', 1, 'bodY')).not.toBe(base);
  });
});

describe('decodeWebhookSecret', () => {
  it('rejects secrets that are not base64 of 24 to 64 bytes', () => {
    expect(() => decodeWebhookSecret('')).toThrow(UsageError);
    expect(() => decodeWebhookSecret('whsec_')).toThrow(UsageError);
    expect(() => decodeWebhookSecret('whsec_not base64!')).toThrow(UsageError);
    expect(() => decodeWebhookSecret(`whsec_${Buffer.alloc(16).toString('base64')}`)).toThrow(/24–64 bytes/);
    expect(() => decodeWebhookSecret(`whsec_${Buffer.alloc(65).toString('base64')}`)).toThrow(UsageError);
    expect(decodeWebhookSecret(secret)).toEqual(keyBytes);
  });

  it('makes createWebhookChannel fail at creation, not at the first alert', () => {
    expect(() => createWebhookChannel({ url: 'http://127.0.0.1:1/', secret: 'hunter2' })).toThrow(UsageError);
    expect(() => createWebhookChannel({ url: 'ftp://127.0.0.1/', secret })).toThrow(UsageError);
  });
});

describe('verifyWebhook', () => {
  const body = '{"id":"evt_1"}';
  const now = (): number => Math.floor(Date.now() / 1000);

  it('accepts a fresh signature, also among several (key rotation)', () => {
    const ts = now();
    const signature = signWebhook(secret, 'evt_1', ts, body);
    const headers = {
      'webhook-id': 'evt_1',
      'webhook-timestamp': String(ts),
      'webhook-signature': signature,
    };
    expect(verifyWebhook(secret, headers, body)).toBe(true);
    expect(verifyWebhook(secret, new Headers(headers), body)).toBe(true);
    const rotated = { ...headers, 'webhook-signature': `v1,AAAA v2,xyz ${signature}` };
    expect(verifyWebhook(secret, rotated, body)).toBe(true);
  });

  it('rejects a wrong key, a changed id, missing headers and a timestamp that is not a number', () => {
    const ts = now();
    const headers = {
      'webhook-id': 'evt_1',
      'webhook-timestamp': String(ts),
      'webhook-signature': signWebhook(secret, 'evt_1', ts, body),
    };
    const otherSecret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    expect(verifyWebhook(otherSecret, headers, body)).toBe(false);
    expect(verifyWebhook(secret, { ...headers, 'webhook-id': 'evt_2' }, body)).toBe(false);
    expect(verifyWebhook(secret, { 'webhook-id': 'evt_1', 'webhook-timestamp': String(ts) }, body)).toBe(
      false,
    );
    expect(verifyWebhook(secret, { ...headers, 'webhook-timestamp': `${ts}.0` }, body)).toBe(false);
  });

  it('rejects timestamps outside the tolerance, past or future', () => {
    for (const ts of [now() - 301, now() + 301]) {
      const headers = {
        'webhook-id': 'evt_1',
        'webhook-timestamp': String(ts),
        'webhook-signature': signWebhook(secret, 'evt_1', ts, body),
      };
      expect(verifyWebhook(secret, headers, body)).toBe(false);
      expect(verifyWebhook(secret, headers, body, 600)).toBe(true);
    }
  });
});
