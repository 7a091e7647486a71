import { sipHashOut, sipHashUnits, sipKeyFrom, type SipKey } from './sip-hash.js';

/**
 * Identifier kinds of TAXONOMY.md "Counting people", strongest first. A record's subject is
 * resolved from the strongest one it holds; the others become aliases of the same person, so
 * that a share recipient's email and the account that owns that email count as one person.
 */
export const identifierKinds = ['user_id', 'email', 'username', 'phone'] as const;
export type IdentifierKind = (typeof identifierKinds)[number];

export interface SubjectCounterOptions {
  /** Key of the keyed hash (at least 16 bytes; the first 16 are used). */
  hashKey: Uint8Array;
  /**
   * Identifier keys held exactly; beyond, new people are counted without being remembered, so
   * counts become upper bounds (`approximate`). 12 bytes per slot at a load of ≤ 0.75.
   */
  maxKeys?: number;
  /**
   * Keep a log of every operation (identifier hashes, no values) and give each operation a
   * subject index of its own, so that another counter can `replay` this one exactly (workers).
   */
  log?: boolean;
}

/** What `SubjectCounter.state` hands to another thread: hashes and indices, no identifier. */
export interface SubjectLog {
  /** Operations: a header word (op | count << 4 | kinds << 8) and the (high, low) hash words. */
  readonly ops: Uint32Array;
  readonly length: number;
  /** A hash of a fixed text under the counter's key: replaying needs the same key. */
  readonly keyCheck: number;
}

const opNew = 0;
const opResolve = 1;
const opOther = 2;

const EMPTY = 0; // slot value 0 = empty; stored values are subject index + 1
const maxLoad = 0.75;

/**
 * Distinct people, exactly, from keyed 64-bit hashes of their identifiers (SipHash-1-3 under a
 * per-process key): the values themselves are never stored. An open-addressing table on one
 * `Uint32Array` (hash high, hash low, subject + 1 per slot) maps identifier → subject index; a
 * union-find over subject indices merges two indices when a later record shows they are one
 * person. Memory: 12 bytes per slot (load ≤ 0.75, doubling) plus 5 bytes per subject; measured
 * for 10 M people with one identifier each: 272 MB of typed arrays, 359 MB RSS, 0.55 µs each.
 * Each further identifier kind a person shows (alias) costs another 12–24 bytes.
 *
 * A 64-bit keyed hash makes a false merge of two different identifiers among 10 M a ~3·10⁻⁶
 * event (birthday bound n²/2⁶⁵), far below any counting error that matters.
 */
export class SubjectCounter {
  /** One key per identifier kind, so user id 5551234 and phone 5551234 stay different people. */
  private readonly kindKeys: SipKey[];
  private readonly maxKeys: number;
  private table: Uint32Array;
  private mask: number; // slots - 1
  private keys = 0;
  /** Union-find parent per subject index. */
  private parent: Uint32Array;
  /** Bit i set: a record resolved to this subject by `identifierKinds[i]` (its "primary" kind). */
  private primary: Uint8Array;
  private subjects = 0;
  /** People counted after the table was full: each a new index, possibly double counted. */
  overflowed = 0;
  private log: Uint32Array | undefined;
  private logLength = 0;

  // The identifiers of the record being resolved (beginRecord → addIdentifier → resolve).
  private readonly pendingHi = new Uint32Array(identifierKinds.length);
  private readonly pendingLo = new Uint32Array(identifierKinds.length);
  private readonly pendingKind = new Uint8Array(identifierKinds.length);
  private pending = 0;
  /** The normalised identifier being hashed (reused: no string per identifier). */
  private units = new Uint16Array(256);

  constructor(options: SubjectCounterOptions) {
    this.kindKeys = identifierKinds.map((_, kind) => {
      const key = sipKeyFrom(options.hashKey);
      key[0] = (key[0] ?? 0) ^ (kind + 1);
      return key;
    });
    this.maxKeys = options.maxKeys ?? 100_000_000;
    const slots = 1 << 16;
    this.table = new Uint32Array(slots * 3);
    this.mask = slots - 1;
    this.parent = new Uint32Array(1 << 12);
    this.primary = new Uint8Array(1 << 12);
    if (options.log === true) this.log = new Uint32Array(1 << 12);
  }

  /** Subject indices handed out (including ones later merged). */
  get size(): number {
    return this.subjects;
  }

  /** Bytes held by the typed arrays, for the memory figure in tests and benchmarks. */
  get bytes(): number {
    return this.table.byteLength + this.parent.byteLength + this.primary.byteLength;
  }

  /** The representative index of `subject` (path halving). */
  find(subject: number): number {
    const parent = this.parent;
    let s = subject;
    let p = parent[s] ?? 0;
    while (p !== s) {
      const g = parent[p] ?? 0;
      parent[s] = g;
      s = g;
      p = parent[s] ?? 0;
    }
    return s;
  }

  /** A person nobody else can be: a record without identifiers (TAXONOMY.md). */
  newSubject(): number {
    this.logOp(opNew, 0);
    return this.allocate();
  }

  private allocate(): number {
    const s = this.subjects++;
    if (s >= this.parent.length) {
      const parent = new Uint32Array(this.parent.length * 2);
      parent.set(this.parent);
      this.parent = parent;
      const primary = new Uint8Array(this.primary.length * 2);
      primary.set(this.primary);
      this.primary = primary;
    }
    this.parent[s] = s;
    return s;
  }

  beginRecord(): void {
    this.pending = 0;
  }

  /** Adds one identifier of the record's own person; call strongest kind first. */
  addIdentifier(kind: number, value: string | number | boolean): void {
    if (this.pending >= identifierKinds.length) return;
    this.hashIdentifier(kind, value);
    const i = this.pending++;
    this.pendingHi[i] = sipHashOut[0] ?? 0;
    this.pendingLo[i] = sipHashOut[1] ?? 0;
    this.pendingKind[i] = kind;
  }

  /**
   * The person the record's identifiers name: an existing one when any identifier was seen before
   * (merging people only when no two records with different strongest identifiers of the same kind
   * would end up as one), else a new one. Each identifier then points at that person.
   */
  resolve(): number {
    const n = this.pending;
    if (n === 0) return this.newSubject();
    if (this.log !== undefined) {
      let kinds = 0;
      for (let i = 0; i < n; i++) kinds |= (this.pendingKind[i] ?? 0) << (2 * i);
      this.logOp(opResolve | (n << 4) | (kinds << 8), n);
      for (let i = 0; i < n; i++) this.logHash(i, this.pendingHi[i] ?? 0, this.pendingLo[i] ?? 0);
    }
    const primaryBit = 1 << (this.pendingKind[0] ?? 0);
    let subject = -1;
    for (let i = 0; i < n; i++) {
      const found = this.lookup(this.pendingHi[i] ?? 0, this.pendingLo[i] ?? 0);
      if (found < 0) continue;
      const root = this.find(found);
      if (subject < 0) {
        // A person already resolved by another identifier of our strongest kind is someone else.
        if (i === 0 || ((this.primary[root] ?? 0) & primaryBit) === 0) subject = root;
      } else if (root !== subject && ((this.primary[root] ?? 0) & (this.primary[subject] ?? 0)) === 0) {
        this.parent[root] = subject;
        this.primary[subject] = (this.primary[subject] ?? 0) | (this.primary[root] ?? 0);
      }
    }
    const found = subject >= 0;
    if (!found) subject = this.allocate();
    this.primary[subject] = (this.primary[subject] ?? 0) | primaryBit;
    for (let i = 0; i < n; i++) this.insert(this.pendingHi[i] ?? 0, this.pendingLo[i] ?? 0, subject);
    return found ? this.token(subject) : subject;
  }

  /** Someone a record names besides its own person (a share recipient): found or new. */
  addOther(kind: number, value: string | number | boolean): number {
    this.hashIdentifier(kind, value);
    return this.other(kind, sipHashOut[0] ?? 0, sipHashOut[1] ?? 0);
  }

  private other(kind: number, hi: number, lo: number): number {
    if (this.log !== undefined) {
      this.logOp(opOther | (1 << 4) | (kind << 8), 1);
      this.logHash(0, hi, lo);
    }
    const found = this.lookup(hi, lo);
    if (found >= 0) return this.token(this.find(found));
    const subject = this.allocate();
    this.insert(hi, lo, subject);
    return subject;
  }

  /**
   * With a log, an operation that found an existing person still gets an index of its own (one of
   * that person's): a replay elsewhere may find a different person for it, and the indices in
   * the fields' subject bits must follow each operation, not each person.
   */
  private token(subject: number): number {
    if (this.log === undefined) return subject;
    const t = this.allocate();
    this.parent[t] = subject;
    return t;
  }

  private logOp(header: number, hashes: number): void {
    if (this.log === undefined) return;
    const need = this.logLength + 1 + 2 * hashes;
    if (need > this.log.length) {
      const grown = new Uint32Array(Math.max(need, this.log.length * 2));
      grown.set(this.log.subarray(0, this.logLength));
      this.log = grown;
    }
    this.log[this.logLength] = header;
    this.logLength = need;
  }

  private logHash(i: number, hi: number, lo: number): void {
    const log = this.log;
    if (log === undefined) return;
    const at = this.logLength - 2 * (i + 1);
    // Written back to front by `resolve`/`other` after `logOp` reserved the words; keep order.
    log[at] = hi;
    log[at + 1] = lo;
  }

  /** This counter's log, for `replay` by another counter with the same key (only with `log`). */
  state(): SubjectLog {
    const log = this.log;
    if (log === undefined) throw new Error('the subject counter keeps no log');
    return { ops: log.subarray(0, this.logLength), length: this.logLength, keyCheck: this.keyCheck() };
  }

  /**
   * Performs the operations of another counter's log here, as if its records had come after this
   * counter's, which is what makes merging two workers exact: aliases and share recipients
   * resolve against everyone seen so far. Returns its subject indices → indices here.
   */
  replay(log: SubjectLog): Uint32Array {
    if (log.keyCheck !== this.keyCheck())
      throw new Error('subject counters with different keys cannot merge');
    const map: number[] = [];
    const ops = log.ops;
    let at = 0;
    while (at < log.length) {
      const header = ops[at++] ?? 0;
      const op = header & 15;
      const n = (header >>> 4) & 15;
      const kinds = header >>> 8;
      if (op === opNew) {
        map.push(this.newSubject());
        continue;
      }
      // `logHash` stored hash i at the end of the op minus 2(i + 1).
      const end = at + 2 * n;
      if (op === opOther) {
        map.push(this.other(kinds & 3, ops[end - 2] ?? 0, ops[end - 1] ?? 0));
      } else {
        this.pending = 0;
        for (let i = 0; i < n; i++) {
          this.pendingHi[i] = ops[end - 2 * (i + 1)] ?? 0;
          this.pendingLo[i] = ops[end - 2 * (i + 1) + 1] ?? 0;
          this.pendingKind[i] = (kinds >>> (2 * i)) & 3;
          this.pending++;
        }
        map.push(this.resolve());
      }
      at = end;
    }
    return Uint32Array.from(map);
  }

  private keyCheck(): number {
    this.hashIdentifier(0, 'leakwatch key check');
    return sipHashOut[0] ?? 0;
  }

  /** Distinct people among the subject indices set in `bits` (indices are merged after the fact). */
  countDistinct(bits: Uint32Array, scratch: Uint32Array): number {
    scratch.fill(0, 0, (this.subjects + 31) >>> 5);
    let count = 0;
    const words = Math.min(bits.length, (this.subjects + 31) >>> 5);
    for (let w = 0; w < words; w++) {
      let word = bits[w] ?? 0;
      while (word !== 0) {
        const low = word & -word;
        const s = (w << 5) + (31 - Math.clz32(low));
        word = (word ^ low) >>> 0;
        const root = this.find(s);
        const bit = 1 << (root & 31);
        const at = root >>> 5;
        if (((scratch[at] ?? 0) & bit) === 0) {
          scratch[at] = (scratch[at] ?? 0) | bit;
          count++;
        }
      }
    }
    return count;
  }

  /** Why counts may be off, or undefined when they are exact. */
  approximation(): string | undefined {
    if (this.overflowed === 0) return undefined;
    return `people beyond ${this.maxKeys} distinct identifiers were counted without deduplication: subject counts are upper bounds (at most ${this.overflowed} too high)`;
  }

  private hashIdentifier(kind: number, value: string | number | boolean): void {
    const key = this.kindKeys[kind];
    if (key === undefined) throw new RangeError(`no identifier kind ${kind}`);
    const text = typeof value === 'string' ? value : String(value);
    // Lower-casing can lengthen non-ASCII text (İ → i̇), hence room for more than its length.
    if (text.length * 3 > this.units.length) {
      this.units = new Uint16Array(Math.max(text.length * 3, this.units.length * 2));
    }
    sipHashUnits(key, this.units, normalizeIdentifier(kind, text, this.units));
  }

  private lookup(hi: number, lo: number): number {
    const table = this.table;
    const mask = this.mask;
    let slot = (lo ^ (hi >>> 7)) & mask;
    for (;;) {
      const at = slot * 3;
      const value = table[at + 2] ?? 0;
      if (value === EMPTY) return -1;
      if (table[at] === hi && table[at + 1] === lo) return value - 1;
      slot = (slot + 1) & mask;
    }
  }

  private insert(hi: number, lo: number, subject: number): void {
    if (this.keys >= this.maxKeys) {
      // Remembered nothing: a later record of this person counts again. Said in `approximation`.
      if (this.lookup(hi, lo) < 0) this.overflowed++;
      return;
    }
    if (this.keys + 1 > (this.mask + 1) * maxLoad) this.grow();
    const table = this.table;
    const mask = this.mask;
    let slot = (lo ^ (hi >>> 7)) & mask;
    for (;;) {
      const at = slot * 3;
      const value = table[at + 2] ?? 0;
      if (value === EMPTY) {
        table[at] = hi;
        table[at + 1] = lo;
        table[at + 2] = subject + 1;
        this.keys++;
        return;
      }
      // Already known: keep its first person (aliases never move, merges go through `parent`).
      if (table[at] === hi && table[at + 1] === lo) return;
      slot = (slot + 1) & mask;
    }
  }

  private grow(): void {
    const old = this.table;
    const slots = (this.mask + 1) * 2;
    const table = new Uint32Array(slots * 3);
    const mask = slots - 1;
    for (let at = 0; at < old.length; at += 3) {
      const value = old[at + 2] ?? 0;
      if (value === EMPTY) continue;
      const hi = old[at] ?? 0;
      const lo = old[at + 1] ?? 0;
      let slot = (lo ^ (hi >>> 7)) & mask;
      while (table[slot * 3 + 2] !== EMPTY) slot = (slot + 1) & mask;
      table[slot * 3] = hi;
      table[slot * 3 + 1] = lo;
      table[slot * 3 + 2] = value;
    }
    this.table = table;
    this.mask = mask;
  }
}

/**
 * Writes the form two spellings of one identifier share into `out` and returns its length: emails
 * and usernames are compared without case and surrounding spaces, phones by their digits
 * (`+1 (555) 010-2030` = `15550102030`). `out` holds at least `text.length` units.
 */
function normalizeIdentifier(kind: number, text: string, out: Uint16Array): number {
  const id = identifierKinds[kind];
  let n = 0;
  if (id === 'phone') {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 48 && c <= 57) out[n++] = c;
    }
    return n;
  }
  let start = 0;
  let end = text.length;
  while (start < end && isTrimmed(text.charCodeAt(start))) start++;
  while (end > start && isTrimmed(text.charCodeAt(end - 1))) end--;
  const lower = id !== 'user_id';
  for (let i = start; i < end; i++) {
    let c = text.charCodeAt(i);
    if (c >= 128) return copyUnits(lower ? text.trim().toLowerCase() : text.trim(), out);
    if (!lower) {
      out[n++] = c;
      continue;
    }
    if (c >= 65 && c <= 90) c += 32;
    out[n++] = c;
  }
  return n;
}

/** Plain ASCII white space; `String.prototype.trim`'s other spaces are non-ASCII and go the slow way. */
function isTrimmed(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function copyUnits(text: string, out: Uint16Array): number {
  const n = Math.min(text.length, out.length);
  for (let i = 0; i < n; i++) out[i] = text.charCodeAt(i);
  return n;
}
