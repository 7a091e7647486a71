import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Category } from '../core/category.js';
import type { FieldFinding } from '../core/scan-report.js';
import type { Detector, FieldContext, Scalar } from '../detectors/detector.js';
import { detectors as registry } from '../detectors/registry.js';
import { Classifier, type ClassifierOptions } from './classifier.js';

/** A tiny detector list, so these tests pin the engine and not the registry's tuning. */
function detector(
  category: Category,
  test: (value: Scalar, field: FieldContext) => boolean,
  extra: Partial<Detector> = {},
): Detector {
  return {
    id: `test-${category}`,
    category,
    match: (value, field) => (test(value, field) ? 0.9 : 0),
    examples: { match: [], noMatch: [] },
    ...extra,
  };
}

const testDetectors: Detector[] = [
  detector('email', (v) => typeof v === 'string' && /^[^@\s]+@[^@\s]+\.[a-z]{2,}$/i.test(v)),
  detector('user_id', (v) => typeof v === 'number', { fieldWords: ['id', 'uid'], requiresFieldWord: true }),
  detector('username', (v) => typeof v === 'string', { fieldWords: ['username'], requiresFieldWord: true }),
  detector('phone', (v) => typeof v === 'string' && /^\+\d{7,15}$/.test(v)),
  detector('ip_address', (v) => typeof v === 'string' && /^\d{1,3}(\.\d{1,3}){3}$/.test(v)),
  detector('device_model', (v) => typeof v === 'string', { fieldWords: ['model'], requiresFieldWord: true }),
  detector('health_metric', (v) => typeof v === 'number' && v > 0 && v < 400, {
    fieldWords: ['weight', 'height'],
    requiresFieldWord: true,
    personOnly: true,
  }),
];

function classifier(options: Partial<ClassifierOptions> = {}): Classifier {
  return new Classifier({
    hashKey: randomBytes(32),
    limit: Infinity,
    signal: new AbortController().signal,
    detectors: testDetectors,
    ...options,
  });
}

function field(fields: FieldFinding[], collection: string, path: string): FieldFinding | undefined {
  return fields.find((f) => f.collection === collection && f.path === path);
}

describe('Classifier', () => {
  it('reports categories, records and people per field path', () => {
    const c = classifier();
    for (let i = 0; i < 10; i++) {
      c.add('accounts', {
        id: i,
        email: `user${i}@example.com`,
        cams: [{ model: 'WYZEC1' }, { model: 'WYZEC2' }],
        shares:
          i % 2 === 0 ? [{ email: `friend${i}@example.org` }, { email: `friend${i + 1}@example.org` }] : [],
        payload: JSON.stringify({ login: { ip: `10.0.0.${i}` } }),
      });
    }
    const r = c.result();
    expect(r.recordsSeen).toEqual({ accounts: 10 });
    expect(field(r.fields, 'accounts', 'email')).toMatchObject({
      categories: ['email'],
      records: 10,
      subjects: 10,
      example: 'u***@e***.com',
    });
    expect(field(r.fields, 'accounts', 'id')).toMatchObject({
      categories: ['user_id'],
      records: 10,
      subjects: 10,
    });
    expect(field(r.fields, 'accounts', 'cams[].model')).toMatchObject({
      categories: ['device_model'],
      records: 10,
    });
    expect(field(r.fields, 'accounts', 'payload.login.ip')).toMatchObject({
      categories: ['ip_address'],
      records: 10,
    });
    // Recipients: friend0..friend9 (evens share with i and i+1) are 10 distinct people.
    expect(field(r.fields, 'accounts', 'shares[].email')).toMatchObject({ records: 5, subjects: 10 });
    expect(r.subjects.total).toBe(20);
    expect(r.subjects.byCategory).toEqual({
      email: 20,
      user_id: 10,
      device_model: 10,
      ip_address: 10,
    });
    expect(r.approximate).toBeUndefined();
  });

  it('counts a person once across duplicated documents, by the strongest identifier', () => {
    const c = classifier();
    c.add('users', { id: 1, email: 'anna@example.com' });
    c.add('users', { id: 1, email: 'anna@example.com' }); // the same document loaded twice
    c.add('users', { email: 'ANNA@example.com' }); // same person, weaker identifier only
    c.add('users', { id: 2, email: 'anna@example.com' }); // another account, same address
    c.add('users', { username: 'bob' });
    c.add('users', { username: 'bob', phone: '+15550100' });
    c.add('users', { phone: '+15550100' });
    const r = c.result();
    expect(field(r.fields, 'users', 'email')).toMatchObject({ records: 4, subjects: 2 });
    expect(r.subjects.total).toBe(3);
    expect(r.subjects.byCategory.phone).toBe(1);
  });

  it('adds share recipients as people, joined with their own accounts', () => {
    const c = classifier();
    c.add('accounts', { id: 1, email: 'owner@example.com', shared_with: ['guest@example.com'] });
    c.add('accounts', { id: 2, email: 'guest@example.com' });
    c.add('accounts', { id: 3, email: 'third@example.com', sharedWith: 'owner@example.com' });
    const r = c.result();
    expect(r.subjects.total).toBe(3);
    expect(field(r.fields, 'accounts', 'shared_with[]')).toMatchObject({ subjects: 1 });
    expect(field(r.fields, 'accounts', 'sharedWith')).toMatchObject({ subjects: 1 });
  });

  it('takes the top-level identifier as the record own, not one inside an array', () => {
    const c = classifier();
    c.add('teams', {
      email: 'lead@example.com',
      people: [{ email: 'a@example.com' }, { email: 'b@example.com' }],
    });
    c.add('teams', { email: 'lead@example.com', people: [{ email: 'a@example.com' }] });
    const r = c.result();
    expect(field(r.fields, 'teams', 'email')).toMatchObject({ records: 2, subjects: 1 });
    expect(field(r.fields, 'teams', 'people[].email')).toMatchObject({ records: 2, subjects: 2 });
    expect(r.subjects.total).toBe(3);
  });

  it('counts each record without identifiers as one person', () => {
    const c = classifier();
    for (let i = 0; i < 3; i++) c.add('logins', { ip: '10.0.0.1', at: i });
    const r = c.result();
    expect(field(r.fields, 'logins', 'ip')).toMatchObject({ records: 3, subjects: 3 });
    expect(r.subjects.total).toBe(3);
  });

  it('applies person-only detectors on records about a person only', () => {
    const c = classifier();
    for (let i = 0; i < 5; i++) {
      c.add('products', { sku: `P${i}`, weight: 250, model: 'X1' });
      c.add('users', { email: `u${i}@example.com`, weight: 70 + i, model: 'WYZE' });
    }
    const r = c.result();
    expect(field(r.fields, 'products', 'weight')).toBeUndefined();
    expect(field(r.fields, 'users', 'weight')).toMatchObject({
      categories: ['health_metric'],
      records: 5,
      subjects: 5,
    });
    // A catalogue's model names nobody: reported, with no people.
    expect(field(r.fields, 'products', 'model')).toMatchObject({ records: 5, subjects: 0 });
    expect(r.subjects.total).toBe(5);
    expect(r.subjects.byCategory).toEqual({ email: 5, health_metric: 5, device_model: 5 });
  });

  it('needs most values of a field to match, except for emails inside free text', () => {
    const c = classifier();
    for (let i = 0; i < 100; i++) {
      c.add('notes', {
        comment: i % 25 === 0 ? `mail@example${i}.com` : `nothing here ${i}`,
        code: i % 25 === 0 ? '10.1.1.1' : `v${i}`,
      });
    }
    const r = c.result();
    expect(field(r.fields, 'notes', 'comment')).toMatchObject({ categories: ['email'], records: 4 });
    expect(field(r.fields, 'notes', 'code')).toBeUndefined();
  });

  it('stops taking records of a collection at the limit', () => {
    const c = classifier({ limit: 2 });
    for (let i = 0; i < 5; i++) c.add('a', { email: `a${i}@example.com` });
    c.add('b', { email: 'b@example.com' });
    const r = c.result();
    expect(r.recordsSeen).toEqual({ a: 2, b: 1 });
    expect(field(r.fields, 'a', 'email')?.records).toBe(2);
  });

  it('keeps no raw value in its result', () => {
    const c = classifier();
    const secrets = ['victim.one@example.com', 'victim.two@example.net', '+15557654321', '192.168.44.55'];
    for (let i = 0; i < 4; i++) {
      c.add('x', {
        id: i,
        email: secrets[i % 2],
        phone: secrets[2],
        ip: secrets[3],
        deep: [JSON.stringify({ email: secrets[1] })],
      });
    }
    const text = JSON.stringify(c.result());
    for (const s of secrets) expect(text).not.toContain(s);
  });

  it('gives bounded results on hostile records', () => {
    const c = classifier();
    c.add('bad', JSON.parse(`${'['.repeat(5_000)}"a@example.com"${']'.repeat(5_000)}`));
    c.add('bad', { blob: 'x'.repeat(2 * 1024 * 1024), email: 'ok@example.com' });
    c.add('bad', { raw: new Uint8Array(8) });
    const r = c.result();
    expect(r.recordsSeen).toEqual({ bad: 3 });
    expect(r.approximate).toMatch(/partly classified/);
    expect(r.approximate).toMatch(/1 value\(s\) over/);
    expect(r.approximate).toMatch(/1 binary/);
  });

  it('counts a detector that throws as no match, without its message', () => {
    const c = classifier({
      detectors: [
        ...testDetectors,
        detector('password', (v) => {
          throw new Error(`bad ${String(v)}`);
        }),
      ],
    });
    c.add('u', { email: 'secret.person@example.com' });
    const r = c.result();
    expect(r.fields).toHaveLength(1);
    expect(r.approximate).toMatch(/detector error/);
    expect(JSON.stringify(r)).not.toContain('secret.person');
  });

  it('counts a value for every category it confidently shows, except rival secrets', () => {
    const c = classifier({
      detectors: [
        ...testDetectors,
        detector('network_layout', (v) => typeof v === 'string' && v.startsWith('10.'), {
          fieldWords: ['gateway'],
          requiresFieldWord: true,
        }),
        detector('phone', (v) => typeof v === 'string' && /\+\d{7,15}/.test(v)),
        detector('email', (v) => typeof v === 'string' && /\S+@\S+\.com/.test(v)),
        {
          ...detector('oauth_token', () => false),
          match: (v) => (typeof v === 'string' && v.startsWith('Atza|') ? 0.95 : 0),
        },
        detector('api_token', (v) => typeof v === 'string' && v.length > 10, {
          fieldWords: ['token'],
          requiresFieldWord: true,
        }),
        { ...detector('gender', () => false), match: (v) => (typeof v === 'string' ? 0.4 : 0) },
      ],
    });
    for (let i = 0; i < 6; i++) {
      c.add('homes', {
        id: i,
        gateway: `10.0.${i}.1`,
        message: i < 3 ? `call +1555010${i}00 or mail me${i}@example.com` : `no contact ${i}`,
        token: `Atza|IwEBI${i}abcdefghijk`,
      });
    }
    const r = c.result();
    expect(field(r.fields, 'homes', 'gateway')?.categories.sort()).toEqual(['ip_address', 'network_layout']);
    expect(field(r.fields, 'homes', 'message')?.categories.sort()).toEqual(['email', 'phone']);
    expect(field(r.fields, 'homes', 'token')?.categories).toEqual(['oauth_token']);
    expect(r.subjects.byCategory).toMatchObject({ ip_address: 6, network_layout: 6, email: 3, phone: 3 });
    expect(r.subjects.byCategory.api_token).toBeUndefined();
    // Below the confidence of a second category, a weak match adds nothing.
    expect(r.subjects.byCategory.gender).toBeUndefined();
  });

  it('merges two classifiers exactly: duplicates, aliases and share recipients across the split', () => {
    const records: [string, Record<string, unknown>][] = [];
    for (let i = 0; i < 400; i++) {
      records.push([
        'accounts',
        {
          id: i,
          email: `user${i}@example.com`,
          model: `M${i % 7}`,
          shared_with: [`user${(i * 7) % 500}@example.com`],
        },
      ]);
      if (i % 10 === 0) records.push(['accounts', { id: i, email: `user${i}@example.com` }]); // loaded twice
      if (i % 9 === 0)
        records.push(['profiles', { username: `u${i}`, email: `USER${(i + 200) % 400}@example.com` }]);
      if (i % 13 === 0) records.push(['accounts', { id: 10_000 + i, email: `user${i}@example.com` }]); // same address
      if (i % 17 === 0) records.push(['catalogue', { model: `M${i}`, weight: 3 }]);
    }
    const hashKey = randomBytes(32);
    const one = classifier({ hashKey });
    for (const [c, r] of records) one.add(c, r);
    const expected = one.result();

    const halves = [classifier({ hashKey, mergeable: true }), classifier({ hashKey, mergeable: true })];
    records.forEach(([c, r], i) => {
      // Interleaved, so people and aliases straddle the two halves.
      halves[Math.floor(i / 37) % 2]!.add(c, r);
    });
    const merged = classifier({ hashKey });
    // Through structured cloning, as between worker threads.
    for (const h of halves) merged.merge(structuredClone(h.state()));
    const got = merged.result();
    const byPath = (fs: FieldFinding[]) =>
      fs
        .map(({ example: _e, confidence: _c, ...f }) => f)
        .sort((a, b) => (a.collection + a.path).localeCompare(b.collection + b.path));
    expect(byPath(got.fields)).toEqual(byPath(expected.fields));
    expect(got.subjects).toEqual(expected.subjects);
    expect(got.recordsSeen).toEqual(expected.recordsSeen);
    expect(expected.subjects.total).toBeGreaterThan(400);

    expect(() => {
      classifier().merge(halves[0]!.state());
    }).toThrow(/different keys/);
    expect(() => one.state()).toThrow(/no log/);
  });

  it('reads whole documents through the record readers', () => {
    const c = classifier();
    c.addText('lines', '{"email":"a@example.com"}\n{"email":"b@example.com"}\n', 'ndjson');
    c.addText('table', 'id,email\n1,c@example.com\n2,a@example.com\n', 'csv');
    const r = c.result();
    expect(r.recordsSeen).toEqual({ lines: 2, table: 2 });
    expect(field(r.fields, 'table', 'email')).toMatchObject({ categories: ['email'], records: 2 });
    expect(r.subjects.byCategory.email).toBe(3);
  });
});

/** Builds a record holding `value` at a DESIGN.md field path (`cams[].mac`, `home.net.ssid`). */
function recordAt(path: string, value: Scalar): Record<string, unknown> {
  const steps = path.split('.');
  const root: Record<string, unknown> = {};
  let here = root;
  steps.forEach((step, i) => {
    const last = i === steps.length - 1;
    const array = step.endsWith('[]');
    const key = array ? step.slice(0, -2) : step;
    if (last) {
      here[key] = array ? [value] : value;
      return;
    }
    const next: Record<string, unknown> = {};
    here[key] = array ? [next] : next;
    here = next;
  });
  return root;
}

describe('Classifier with the registry', () => {
  it.runIf(registry.length > 0)("finds each detector's own examples at their paths", () => {
    const c = new Classifier({
      hashKey: randomBytes(32),
      limit: Infinity,
      signal: new AbortController().signal,
    });
    const expected: { collection: string; path: string; category: Category }[] = [];
    let n = 0;
    for (const d of registry) {
      for (const example of d.examples.match) {
        const collection = `${d.id}-${n++}`;
        // On a person's record, so that person-only detectors apply; the address names the person.
        const record = { owner_email: `person${n}@example.com`, ...recordAt(example.path, example.value) };
        for (let i = 0; i < 3; i++) c.add(collection, record);
        expected.push({ collection, path: example.path, category: d.category });
      }
    }
    const r = c.result();
    const missed = expected.filter(
      (e) => !(field(r.fields, e.collection, e.path)?.categories.includes(e.category) ?? false),
    );
    // Another detector may win a value that fits two categories (a username that is an email);
    // the engine must still place the great majority at their path with their category.
    expect(missed.length, JSON.stringify(missed.slice(0, 10))).toBeLessThanOrEqual(
      Math.floor(expected.length * 0.1),
    );
  });
});

describe('Classifier: what makes a record about a person', () => {
  it('a client address does (anonymous app events), a server address does not (access logs)', () => {
    const c = new Classifier({
      hashKey: randomBytes(32),
      limit: Infinity,
      signal: new AbortController().signal,
    });
    for (let i = 0; i < 20; i++) {
      const at = new Date(Date.UTC(2019, 11, 4, 10, 0, i)).toISOString();
      c.add('app-events', { '@timestamp': at, event: 'app_open', client_ip: `73.21.4.${i + 1}` });
      c.add('access-log', { ts: at, server_ip: `10.0.3.${i + 1}`, method: 'GET', status: 200 });
    }
    const r = c.result();
    expect(field(r.fields, 'app-events', '@timestamp')?.categories).toContain('activity_time');
    // Each event names nobody: each is one person (TAXONOMY.md).
    expect(field(r.fields, 'app-events', '@timestamp')?.subjects).toBe(20);
    expect(field(r.fields, 'access-log', 'ts')).toBeUndefined();
  });
});
