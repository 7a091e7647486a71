import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { identifierKinds, SubjectCounter } from './subject-counter.js';

const USER_ID = identifierKinds.indexOf('user_id');
const EMAIL = identifierKinds.indexOf('email');
const USERNAME = identifierKinds.indexOf('username');
const PHONE = identifierKinds.indexOf('phone');

function counter(maxKeys?: number): SubjectCounter {
  return new SubjectCounter({ hashKey: randomBytes(16), ...(maxKeys ? { maxKeys } : {}) });
}

/** Resolves one record's identifiers, strongest first. */
function person(c: SubjectCounter, ids: [number, string | number][]): number {
  c.beginRecord();
  for (const [kind, value] of ids) c.addIdentifier(kind, value);
  return c.resolve();
}

function distinct(c: SubjectCounter, subjects: number[]): number {
  const bits = new Uint32Array((c.size + 31) >>> 5);
  for (const s of subjects) bits[s >>> 5] = (bits[s >>> 5] ?? 0) | (1 << (s & 31));
  return c.countDistinct(bits, new Uint32Array(bits.length));
}

describe('SubjectCounter', () => {
  it('counts a duplicated document once, case and spacing aside', () => {
    const c = counter();
    const a = person(c, [[EMAIL, 'Anna@Example.com']]);
    const b = person(c, [[EMAIL, ' anna@example.com ']]);
    const d = person(c, [[PHONE, '+1 (555) 010-2030']]);
    const e = person(c, [[PHONE, '15550102030']]);
    expect(b).toBe(a);
    expect(e).toBe(d);
    expect(distinct(c, [a, b, d, e])).toBe(2);
  });

  it('folds case and spacing of non-ASCII identifiers too', () => {
    const c = counter();
    const a = person(c, [[EMAIL, 'ÉLODIE.Ünal@Example.fr']]);
    const b = person(c, [[EMAIL, '\u00a0élodie.ünal@example.fr ']]);
    const d = person(c, [[USER_ID, ' 42 ']]);
    const e = person(c, [[USER_ID, 42]]);
    expect(b).toBe(a);
    expect(distinct(c, [a, b, d, e])).toBe(2);
  });

  it('replays another counter exactly, whose records then count as coming after its own', () => {
    const hashKey = randomBytes(16);
    const seq = new SubjectCounter({ hashKey });
    const first = new SubjectCounter({ hashKey, log: true });
    const second = new SubjectCounter({ hashKey, log: true });
    const ops: ((c: SubjectCounter) => number)[] = [
      (c) =>
        person(c, [
          [USER_ID, 1],
          [EMAIL, 'a@x.io'],
        ]),
      (c) => c.addOther(EMAIL, 'b@x.io'),
      (c) => c.newSubject(),
      (c) =>
        person(c, [
          [USER_ID, 2],
          [EMAIL, 'b@x.io'],
        ]), // the share recipient's account
      (c) =>
        person(c, [
          [USER_ID, 3],
          [EMAIL, 'a@x.io'],
        ]), // another account, same address
      (c) => person(c, [[EMAIL, 'A@x.io']]),
      (c) =>
        person(c, [
          [USER_ID, 1],
          [EMAIL, 'a@x.io'],
        ]), // loaded twice
    ];
    const seqSubjects = ops.map((op) => op(seq));
    const firstSubjects = ops.slice(0, 3).map((op) => op(first));
    const secondSubjects = ops.slice(3).map((op) => op(second));
    const merged = new SubjectCounter({ hashKey });
    const map1 = merged.replay(first.state());
    const map2 = merged.replay(second.state());
    const mergedSubjects = [...firstSubjects.map((s) => map1[s]!), ...secondSubjects.map((s) => map2[s]!)];
    expect(distinct(merged, mergedSubjects)).toBe(distinct(seq, seqSubjects));
    expect(distinct(merged, mergedSubjects)).toBe(4);
    // Person by person: the same operations name the same people.
    for (let i = 0; i < ops.length; i++) {
      for (let j = 0; j < ops.length; j++) {
        const same = merged.find(mergedSubjects[i]!) === merged.find(mergedSubjects[j]!);
        expect(same, `${i} ${j}`).toBe(seq.find(seqSubjects[i]!) === seq.find(seqSubjects[j]!));
      }
    }
  });

  it('keeps kinds apart: user id 42 is not phone 42', () => {
    const c = counter();
    expect(person(c, [[USER_ID, 42]])).not.toBe(person(c, [[PHONE, '42']]));
  });

  it('joins a share recipient to the account that owns the address', () => {
    const c = counter();
    const recipient = c.addOther(EMAIL, 'bob@example.com');
    const owner = person(c, [
      [USER_ID, 7],
      [EMAIL, 'bob@example.com'],
    ]);
    expect(c.find(recipient)).toBe(c.find(owner));
    // And the other way round: the account first, then someone shares with it.
    const carol = person(c, [
      [USER_ID, 8],
      [EMAIL, 'carol@example.com'],
    ]);
    expect(c.addOther(EMAIL, 'CAROL@example.com')).toBe(carol);
    expect(distinct(c, [recipient, owner, carol])).toBe(2);
  });

  it('merges two people only when the strongest identifiers do not disagree', () => {
    const c = counter();
    // Two accounts share a placeholder email: different user ids are different people.
    const a = person(c, [
      [USER_ID, 1],
      [EMAIL, 'noreply@example.com'],
    ]);
    const b = person(c, [
      [USER_ID, 2],
      [EMAIL, 'noreply@example.com'],
    ]);
    expect(c.find(a)).not.toBe(c.find(b));
    // A record known by username only, later seen with its user id: one person.
    const d = person(c, [[USERNAME, 'dora']]);
    const e = person(c, [
      [USER_ID, 3],
      [USERNAME, 'dora'],
    ]);
    expect(c.find(d)).toBe(c.find(e));
    expect(distinct(c, [a, b, d, e])).toBe(3);
  });

  it('merges indices after the fact (email first, then username, then both)', () => {
    const c = counter();
    const byEmail = person(c, [[EMAIL, 'eve@example.com']]);
    const byName = person(c, [[USERNAME, 'eve']]);
    expect(distinct(c, [byEmail, byName])).toBe(2);
    person(c, [
      [EMAIL, 'eve@example.com'],
      [USERNAME, 'eve'],
    ]);
    expect(distinct(c, [byEmail, byName])).toBe(1);
  });

  it('gives each record without identifiers a person of its own', () => {
    const c = counter();
    const subjects = [c.newSubject(), c.newSubject(), person(c, [])];
    expect(distinct(c, subjects)).toBe(3);
  });

  it('counts 1,000,000 distinct ids exactly, and each again only once', () => {
    const c = counter();
    const n = 1_000_000;
    const bits = new Uint32Array((n * 2 + 31) >>> 5);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < n; i++) {
        c.beginRecord();
        c.addIdentifier(USER_ID, i);
        const s = c.resolve();
        bits[s >>> 5] = (bits[s >>> 5] ?? 0) | (1 << (s & 31));
      }
    }
    expect(c.size).toBe(n);
    expect(c.countDistinct(bits, new Uint32Array(bits.length))).toBe(n);
    expect(c.approximation()).toBeUndefined();
    // 12 bytes per slot at ≤ 0.75 load, 5 bytes per subject: 2^21 slots here.
    expect(c.bytes).toBeLessThan(40 * 1024 * 1024);
  });

  it('says so when it stops remembering people', () => {
    const c = counter(10);
    for (let i = 0; i < 20; i++) person(c, [[USER_ID, i]]);
    expect(c.overflowed).toBe(10);
    expect(c.approximation()).toMatch(/upper bounds/);
  });
});
