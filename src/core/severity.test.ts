import { describe, expect, it } from 'vitest';
import { isAtLeast, storeSeverity } from './severity.js';

const none = { total: 0, byCategory: {} };

describe('storeSeverity (TAXONOMY.md rules)', () => {
  it('is info for anything not open', () => {
    for (const status of ['auth-required', 'unreachable', 'other-protocol', 'error'] as const) {
      expect(
        storeSeverity({ status, subjects: { total: 5, byCategory: { api_token: 5 } }, classified: true }),
      ).toBe('info');
    }
  });

  it('is critical for any secret category or special data of >= 100 people', () => {
    expect(
      storeSeverity({
        status: 'open',
        subjects: { total: 1, byCategory: { oauth_token: 1 } },
        classified: true,
      }),
    ).toBe('critical');
    expect(
      storeSeverity({
        status: 'open',
        subjects: { total: 140, byCategory: { health_metric: 140 } },
        classified: true,
      }),
    ).toBe('critical');
  });

  it('is high for special data of fewer people, or personal data of >= 1000 people', () => {
    expect(
      storeSeverity({
        status: 'open',
        subjects: { total: 99, byCategory: { health_metric: 99 } },
        classified: true,
      }),
    ).toBe('high');
    expect(
      storeSeverity({
        status: 'open',
        subjects: { total: 1000, byCategory: { email: 1000 } },
        classified: true,
      }),
    ).toBe('high');
  });

  it('is medium for personal data of few people, or unclassified data', () => {
    expect(
      storeSeverity({
        status: 'open',
        subjects: { total: 999, byCategory: { email: 999 } },
        classified: true,
      }),
    ).toBe('medium');
    expect(storeSeverity({ status: 'open', subjects: none, records: 10, classified: false })).toBe('medium');
  });

  it('is low for empty stores or only low categories', () => {
    expect(storeSeverity({ status: 'open', subjects: none, records: 0, classified: false })).toBe('low');
    expect(
      storeSeverity({
        status: 'open',
        subjects: { total: 9, byCategory: { device_model: 9 } },
        classified: true,
      }),
    ).toBe('low');
  });
});

describe('storeSeverity with indicators', () => {
  it('caps a suspected honeypot at low, whatever its data', () => {
    expect(
      storeSeverity({
        status: 'open',
        subjects: { total: 1, byCategory: { oauth_token: 1 } },
        classified: true,
        indicators: ['honeypot-suspected'],
      }),
    ).toBe('low');
    expect(
      storeSeverity({
        status: 'open',
        subjects: none,
        records: 0,
        classified: false,
        indicators: ['honeypot-suspected', 'ransom-note'],
      }),
    ).toBe('low');
  });

  it('raises an open store with a ransom note to at least high', () => {
    expect(
      storeSeverity({
        status: 'open',
        subjects: none,
        records: 1,
        classified: true,
        indicators: ['ransom-note'],
      }),
    ).toBe('high');
    expect(
      storeSeverity({
        status: 'open',
        subjects: { total: 1, byCategory: { oauth_token: 1 } },
        classified: true,
        indicators: ['ransom-note'],
      }),
    ).toBe('critical');
    expect(
      storeSeverity({
        status: 'auth-required',
        subjects: none,
        classified: false,
        indicators: ['ransom-note'],
      }),
    ).toBe('info');
  });

  it('leaves an empty store low', () => {
    expect(
      storeSeverity({ status: 'open', subjects: none, records: 0, classified: false, indicators: ['empty'] }),
    ).toBe('low');
  });
});

describe('isAtLeast', () => {
  it('orders severities', () => {
    expect(isAtLeast('critical', 'high')).toBe(true);
    expect(isAtLeast('high', 'high')).toBe(true);
    expect(isAtLeast('medium', 'high')).toBe(false);
    expect(isAtLeast('info', 'info')).toBe(true);
  });
});
