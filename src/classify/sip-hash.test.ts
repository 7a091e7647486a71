import { describe, expect, it } from 'vitest';
import { sipHash, sipHashOut, sipKeyFrom } from './sip-hash.js';

/** Message of `length` bytes 00 01 02 … as UTF-16 code units (two bytes each, little-endian). */
function referenceMessage(length: number): string {
  let text = '';
  for (let i = 0; i < length; i += 2) text += String.fromCharCode(i | ((i + 1) << 8));
  return text;
}

function hex(): string {
  return (
    (sipHashOut[0] ?? 0).toString(16).padStart(8, '0') + (sipHashOut[1] ?? 0).toString(16).padStart(8, '0')
  );
}

describe('sipHash', () => {
  // SipHash-2-4 reference vectors (veorq/SipHash vectors.h, key 00..0f, message 00..len-1), as
  // little-endian 64-bit numbers; only even lengths fit whole code units.
  const vectors: [number, string][] = [
    [0, '726fdb47dd0e0e31'],
    [2, '0d6c8009d9a94f5a'],
    [4, 'cf2794e0277187b7'],
    [6, 'cbc9466e58fee3ce'],
    [8, '93f5f5799a932462'],
  ];
  const key = sipKeyFrom(Uint8Array.from({ length: 16 }, (_, i) => i));

  it.each(vectors)('matches the SipHash-2-4 reference for %i bytes', (length, want) => {
    sipHash(key, referenceMessage(length), 2, 4);
    expect(hex()).toBe(want);
  });

  it('depends on the key and on every code unit', () => {
    const other = sipKeyFrom(new Uint8Array(16).fill(1));
    sipHash(key, 'anna@example.com');
    const a = hex();
    sipHash(other, 'anna@example.com');
    expect(hex()).not.toBe(a);
    sipHash(key, 'anna@example.con');
    expect(hex()).not.toBe(a);
    sipHash(key, 'anna@example.com');
    expect(hex()).toBe(a);
  });

  it('refuses a short key', () => {
    expect(() => sipKeyFrom(new Uint8Array(8))).toThrow(RangeError);
  });
});
