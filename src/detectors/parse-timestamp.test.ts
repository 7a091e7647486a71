import { describe, expect, it } from 'vitest';
import { parseTimestamp } from './parse-timestamp.js';

const dec4 = Date.UTC(2019, 11, 4);

describe('parseTimestamp', () => {
  it('reads epoch seconds and milliseconds, numbers and digit strings', () => {
    expect(parseTimestamp(1575417600)).toBe(dec4);
    expect(parseTimestamp(1575417600000)).toBe(dec4);
    expect(parseTimestamp('1575417600')).toBe(dec4);
  });
  it('reads ISO 8601, day-first/month-first and compact dates', () => {
    expect(parseTimestamp('2019-12-04')).toBe(dec4);
    expect(parseTimestamp('2019-12-04T00:00:00Z')).toBe(dec4);
    expect(parseTimestamp('2019-12-04 01:00:00+01:00')).toBe(dec4);
    expect(parseTimestamp('04/12/2019')).toBe(Date.UTC(2019, 3, 12));
    expect(parseTimestamp('24/12/2019')).toBe(Date.UTC(2019, 11, 24));
    expect(parseTimestamp('20191204')).toBe(dec4);
  });
  it('refuses small numbers unless asked, and junk', () => {
    expect(parseTimestamp(42)).toBeNaN();
    expect(parseTimestamp(-315619200, true)).toBe(Date.UTC(1960, 0, 1));
    expect(parseTimestamp('2019-13-04')).toBeNaN();
    expect(parseTimestamp('hello world')).toBeNaN();
  });
});
