import { describe, expect, it } from 'vitest';
import { shannonEntropy } from './shannon-entropy.js';

describe('shannonEntropy', () => {
  it('is 0 for one repeated symbol and log2(n) for n equally frequent symbols', () => {
    expect(shannonEntropy('aaaaaaaa')).toBe(0);
    expect(shannonEntropy('abababab')).toBeCloseTo(1, 10);
    expect(shannonEntropy('0123456789abcdef')).toBeCloseTo(4, 10);
    expect(shannonEntropy('')).toBe(0);
  });
  it('ranks random tokens above words', () => {
    expect(shannonEntropy('k3Jd9sLq0Zx7VbN2mR5tW8yE1uI4oP6a')).toBeGreaterThan(4.5);
    expect(shannonEntropy('passwordpassword')).toBeLessThan(3);
  });
});
