/**
 * SipHash (Aumasson & Bernstein, "SipHash: a fast short-input PRF", 2012; RFC-style reference at
 * https://github.com/veorq/SipHash) over the UTF-16 code units of a string, each taken as two
 * little-endian bytes. A keyed PRF: without the key nobody can predict or invert a hash, and an
 * attacker who controls the data cannot flood one bucket of the subject table.
 *
 * JavaScript has no fast 64-bit integers (BigInt allocates), so every 64-bit lane is two 32-bit
 * halves. The result is written to `sipHashOut` (high, low) instead of returning an object, because
 * the classifier hashes one or more identifiers per record and must not allocate per call.
 */

/** The last hash: `[high 32 bits, low 32 bits]` as unsigned integers. */
export const sipHashOut = new Uint32Array(2);

/** A 128-bit key as four 32-bit little-endian words: k0 = (w1, w0), k1 = (w3, w2) as (hi, lo). */
export type SipKey = Uint32Array;

/** Reads a 16-byte key into the form `sipHash` takes. */
export function sipKeyFrom(bytes: Uint8Array): SipKey {
  if (bytes.length < 16) throw new RangeError('SipHash needs a key of at least 16 bytes');
  const view = new DataView(bytes.buffer, bytes.byteOffset, 16);
  return Uint32Array.of(
    view.getUint32(0, true),
    view.getUint32(4, true),
    view.getUint32(8, true),
    view.getUint32(12, true),
  );
}

/**
 * SipHash-c-d of `text` (code units as UTF-16LE bytes) under `key`; result in `sipHashOut`.
 * `c`/`d` default to 1/3 (SipHash-1-3, the variant Rust and Python use for hash tables).
 */
export function sipHash(key: SipKey, text: string, c = 1, d = 3): void {
  if (text.length > textUnits.length)
    textUnits = new Uint16Array(Math.max(text.length, textUnits.length * 2));
  for (let i = 0; i < text.length; i++) textUnits[i] = text.charCodeAt(i);
  sipHashUnits(key, textUnits, text.length, c, d);
}

let textUnits = new Uint16Array(256);

/**
 * `sipHash` of the first `units` code units of `text`: callers that normalise a value on the way
 * (lower case, digits only) write it here instead of allocating a string per value.
 */
export function sipHashUnits(key: SipKey, text: Uint16Array, units: number, c = 1, d = 3): void {
  const k0l = key[0] ?? 0;
  const k0h = key[1] ?? 0;
  const k1l = key[2] ?? 0;
  const k1h = key[3] ?? 0;
  // "somepseudorandomlygeneratedbytes"
  let v0h = (k0h ^ 0x736f6d65) >>> 0;
  let v0l = (k0l ^ 0x70736575) >>> 0;
  let v1h = (k1h ^ 0x646f7261) >>> 0;
  let v1l = (k1l ^ 0x6e646f6d) >>> 0;
  let v2h = (k0h ^ 0x6c796765) >>> 0;
  let v2l = (k0l ^ 0x6e657261) >>> 0;
  let v3h = (k1h ^ 0x74656462) >>> 0;
  let v3l = (k1l ^ 0x79746573) >>> 0;
  let t: number;
  let lo: number;

  // Blocks of 4 code units (8 bytes); the last block holds the remaining 0..3 code units and the
  // byte length's low byte in its top byte. Step `blocks` is the finalisation (d rounds).
  const blocks = (units >>> 2) + 1;
  for (let b = 0; b <= blocks; b++) {
    let mh = 0;
    let ml = 0;
    let rounds = c;
    if (b < blocks - 1) {
      const i = b << 2;
      ml = ((text[i] ?? 0) | ((text[i + 1] ?? 0) << 16)) >>> 0;
      mh = ((text[i + 2] ?? 0) | ((text[i + 3] ?? 0) << 16)) >>> 0;
    } else if (b === blocks - 1) {
      const i = b << 2;
      const rest = units - i;
      mh = ((units * 2) & 0xff) << 24;
      if (rest >= 1) ml = text[i] ?? 0;
      if (rest >= 2) ml = (ml | ((text[i + 1] ?? 0) << 16)) >>> 0;
      if (rest >= 3) mh = (mh | (text[i + 2] ?? 0)) >>> 0;
      mh = mh >>> 0;
    } else {
      v2l = (v2l ^ 0xff) >>> 0;
      rounds = d;
    }
    v3h = (v3h ^ mh) >>> 0;
    v3l = (v3l ^ ml) >>> 0;
    for (let r = 0; r < rounds; r++) {
      // v0 += v1; v1 = rotl(v1, 13) ^ v0; v0 = rotl(v0, 32)
      lo = (v0l + v1l) >>> 0;
      v0h = (v0h + v1h + (lo < v0l ? 1 : 0)) >>> 0;
      v0l = lo;
      t = ((v1h << 13) | (v1l >>> 19)) >>> 0;
      v1l = (((v1l << 13) | (v1h >>> 19)) ^ v0l) >>> 0;
      v1h = (t ^ v0h) >>> 0;
      t = v0h;
      v0h = v0l;
      v0l = t;
      // v2 += v3; v3 = rotl(v3, 16) ^ v2
      lo = (v2l + v3l) >>> 0;
      v2h = (v2h + v3h + (lo < v2l ? 1 : 0)) >>> 0;
      v2l = lo;
      t = ((v3h << 16) | (v3l >>> 16)) >>> 0;
      v3l = (((v3l << 16) | (v3h >>> 16)) ^ v2l) >>> 0;
      v3h = (t ^ v2h) >>> 0;
      // v0 += v3; v3 = rotl(v3, 21) ^ v0
      lo = (v0l + v3l) >>> 0;
      v0h = (v0h + v3h + (lo < v0l ? 1 : 0)) >>> 0;
      v0l = lo;
      t = ((v3h << 21) | (v3l >>> 11)) >>> 0;
      v3l = (((v3l << 21) | (v3h >>> 11)) ^ v0l) >>> 0;
      v3h = (t ^ v0h) >>> 0;
      // v2 += v1; v1 = rotl(v1, 17) ^ v2; v2 = rotl(v2, 32)
      lo = (v2l + v1l) >>> 0;
      v2h = (v2h + v1h + (lo < v2l ? 1 : 0)) >>> 0;
      v2l = lo;
      t = ((v1h << 17) | (v1l >>> 15)) >>> 0;
      v1l = (((v1l << 17) | (v1h >>> 15)) ^ v2l) >>> 0;
      v1h = (t ^ v2h) >>> 0;
      t = v2h;
      v2h = v2l;
      v2l = t;
    }
    v0h = (v0h ^ mh) >>> 0;
    v0l = (v0l ^ ml) >>> 0;
  }
  sipHashOut[0] = v0h ^ v1h ^ v2h ^ v3h;
  sipHashOut[1] = v0l ^ v1l ^ v2l ^ v3l;
}
