import { describe, expect, it } from 'vitest';
import { UsageError } from '../core/errors.js';
import { isRevocationAction, parseHookUrl, parseRetryAfter, revocationWebhookId } from './revoke.js';

describe('revocation hooks: the pure parts', () => {
  it('gives every (incident, action, batch) one stable, header-safe webhook-id', () => {
    expect(revocationWebhookId(1, 'sessions.revoke', 17)).toBe('lw-rev-1-sessions.revoke-17');
    expect(revocationWebhookId(1, 'tokens.rotate', 17)).not.toBe(
      revocationWebhookId(1, 'sessions.revoke', 17),
    );
    expect(revocationWebhookId(12, 'password.reset_required', 3)).toMatch(/^[\x21-\x7e]{1,256}$/);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
  });

  it('sends identifiers over plain http only to loopback', () => {
    expect(parseHookUrl('http://127.0.0.1:8080/hooks').hostname).toBe('127.0.0.1');
    expect(parseHookUrl('http://[::1]:8080/hooks').port).toBe('8080');
    expect(parseHookUrl('http://localhost/hooks').protocol).toBe('http:');
    expect(parseHookUrl('https://app.example.com/hooks').protocol).toBe('https:');
    expect(() => parseHookUrl('http://app.example.com/hooks')).toThrow(UsageError);
    expect(() => parseHookUrl('ftp://127.0.0.1/')).toThrow(UsageError);
  });

  it('knows the four actions', () => {
    expect(isRevocationAction('integrations.unlink')).toBe(true);
    expect(isRevocationAction('accounts.delete')).toBe(false);
  });
});
