import { describe, expect, it } from 'vitest';
import { formatDuration } from '../core/duration.js';
import { describeEvent, describeExposure, formatTime } from './describe-event.js';
import type { WatchEvent } from './watch-event.js';

const base: WatchEvent = {
  id: 'evt_1',
  kind: 'opened',
  at: '2026-11-21T22:01:05.312Z',
  store: { name: 'cache', target: 'redis://127.0.0.1:6379', protocol: 'redis', tags: [] },
  fromState: 'protected',
  toState: 'open',
  detail: 'Redis 7.0.15 answers without a password',
};

describe('describeEvent', () => {
  it('says when an exposure opened, to the second', () => {
    const { subject, lines } = describeEvent({
      ...base,
      window: {
        openedAt: '2026-11-21T22:01:05.312Z',
        openedAfter: '2026-11-21T22:00:35.000Z',
        lastOpenAt: '2026-11-21T22:01:05.312Z',
        durationMs: 0,
      },
    });
    expect(subject).toBe(
      '[leakwatch] OPEN: cache (redis://127.0.0.1:6379) answers without credentials since 2026-11-21T22:01:05Z',
    );
    expect(lines).toContain('State: protected → open, probed 2026-11-21T22:01:05Z');
    expect(lines).toContain(
      'Since: 2026-11-21T22:01:05Z (protected at 2026-11-21T22:00:35Z), still open, 0ms so far',
    );
    expect(lines).toContain('Detail: Redis 7.0.15 answers without a password');
  });

  it('names the length of a closed window and what a re-classification found', () => {
    const closed = describeEvent({
      ...base,
      kind: 'closed',
      fromState: 'open',
      toState: 'protected',
      window: {
        openedAt: '2026-11-01T00:00:00Z',
        closedAt: '2026-11-23T04:00:00Z',
        lastOpenAt: '2026-11-23T03:59:30Z',
        durationMs: 22 * 86_400_000 + 4 * 3_600_000,
      },
    });
    expect(closed.subject).toBe(
      '[leakwatch] CLOSED: cache (redis://127.0.0.1:6379) requires credentials again after 22d 4h open',
    );
    const jump = describeEvent({
      ...base,
      kind: 'size-jump',
      fromState: 'open',
      changes: { recordsBefore: 1000, recordsAfter: 250_000 },
    });
    expect(jump.subject).toBe(
      '[leakwatch] SIZE JUMP: cache (redis://127.0.0.1:6379) went from 1,000 to 250,000 records',
    );
    expect(jump.lines).toContain('Changes: records 1,000 → 250,000');
  });

  it('strips control characters a target could have smuggled into a name or detail', () => {
    const { subject, lines } = describeEvent({
      ...base,
      store: { ...base.store, name: 'cache\r\nBcc: victim@example.test' },
      detail: 'x\x1b[31mred',
    });
    for (const control of ['\r', '\n', '\x1b']) expect(subject).not.toContain(control);
    expect(lines.join('\n')).not.toContain('\x1b');
  });
});

describe('describeExposure', () => {
  it('lists categories by people affected, then the categories without a count', () => {
    expect(
      describeExposure({
        classifiedAt: '2026-11-21T22:01:07Z',
        categories: ['email', 'wifi_ssid', 'device_model'],
        subjects: { total: 2400, byCategory: { wifi_ssid: 1900, email: 2400 } },
      }),
    ).toBe('2,400 people: email 2,400, wifi_ssid 1,900, device_model (classified 2026-11-21T22:01:07Z)');
  });
});

describe('formatting', () => {
  it('keeps the two largest units of a duration and drops milliseconds from times', () => {
    expect([999, 61_000, 3_600_000, 90_061_000].map(formatDuration)).toEqual([
      '999ms',
      '1m 1s',
      '1h',
      '1d 1h',
    ]);
    expect(formatTime('2026-11-21T22:01:05.999Z')).toBe('2026-11-21T22:01:05Z');
    expect(formatTime('not a time')).toBe('not a time');
  });
});
