import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.js';

describe('TokenBucket', () => {
  it('lets through at most the rate per second, with a burst of one second at most', async () => {
    const bucket = new TokenBucket(50);
    const start = performance.now();
    await Promise.all(Array.from({ length: 26 }, () => bucket.take()));
    // One token at start, then 50/s: 25 more need at least 0.5 s.
    expect(performance.now() - start).toBeGreaterThanOrEqual(480);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => new TokenBucket(0)).toThrow(RangeError);
    expect(() => new TokenBucket(Number.NaN)).toThrow(RangeError);
  });
});
