import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.js';
import { redactTarget, sanitizeText } from './redact.js';

describe('sanitizeText', () => {
  it('strips terminal control sequences and folds newlines', () => {
    expect(sanitizeText('evil\u001b[31mred\u001b[0m\r\nline\u0007')).toBe('evil [31mred [0m line');
    expect(sanitizeText('a\u202eb')).toBe('a b');
  });

  it('caps the length', () => {
    expect(sanitizeText('x'.repeat(500), 10)).toHaveLength(10);
  });
});

describe('redactTarget', () => {
  it.each([
    ['redis://:pw@host', 'redis://host'],
    ['postgres://u:p@h:1/db', 'postgres://h:1/db'],
    ['mysql://root@h', 'mysql://h'],
    ['http://h/a@b', 'http://h/a@b'],
    ['127.0.0.1:6379', '127.0.0.1:6379'],
  ])('%s -> %s', (input, output) => {
    expect(redactTarget(input)).toBe(output);
  });
});

describe('parseDuration', () => {
  it.each([
    ['5s', 5000],
    ['500ms', 500],
    ['2m', 120_000],
    ['1.5', 1500],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'abc', '5x', '-1s', '0s'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/duration/);
  });
});
