import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../corpus/generate-dataset.js';
import type { Category } from '../core/category.js';
import { decryptText, keyedHash, type PeopleKeys } from '../core/sealed-text.js';
import { Classifier } from './classifier.js';
import { readRecordsFile } from './read-records.js';

const keys: PeopleKeys = { hmacKey: randomBytes(32), encryptionKey: randomBytes(32) };
const dir = mkdtempSync(join(tmpdir(), 'lw-people-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function classifyPeople(file: string): Promise<Classifier> {
  const classifier = new Classifier({
    hashKey: randomBytes(32),
    limit: Infinity,
    signal: new AbortController().signal,
    people: true,
  });
  for await (const { collection, record } of readRecordsFile(file, {
    signal: new AbortController().signal,
  })) {
    classifier.add(collection, record);
  }
  return classifier;
}

describe('Classifier people()', () => {
  it("lists every person with exactly their categories: per-category sums equal the generator's ground truth", async () => {
    const summary = generateDataset({ users: 1500, out: dir, seed: 11, files: ['accounts.ndjson'] });
    const truth = summary.labels.files['accounts.ndjson']?.subjects;
    expect(truth).toBeDefined();
    const classifier = await classifyPeople(join(dir, 'accounts.ndjson'));
    const people = classifier.people(keys);
    const result = classifier.result();

    expect(people.length).toBe(truth?.total);
    expect(people.length).toBe(result.subjects.total);
    const perCategory: Partial<Record<Category, number>> = {};
    for (const person of people) {
      for (const category of person.categories) perCategory[category] = (perCategory[category] ?? 0) + 1;
    }
    expect(perCategory).toEqual(truth?.byCategory);
    // Someone whose body metrics leaked is told so; someone else is not.
    const withHealth = people.filter((p) => p.categories.includes('health_metric'));
    expect(withHealth.length).toBeGreaterThan(0);
    expect(withHealth.length).toBeLessThan(people.length);
  }, 60_000);

  it('keeps contacts and identifiers only sealed, and hashes them with the key', async () => {
    const file = join(dir, 'small.ndjson');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      file,
      [
        { user_id: 101, email: 'Alice@Example.com', ssid: 'HomeNet-5G' },
        { user_id: 101, email: 'alice@example.com', body: { weight_kg: 61.5, height_cm: 168 } },
        { user_id: 202, email: 'bob@example.org', ssid: 'BobsWifi' },
        { email: 'carol@example.net', shared_with: ['dave@example.com'] },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n'),
    );
    const classifier = await classifyPeople(file);
    const people = classifier.people(keys);
    const byId = new Map(
      people.map((p) => [p.identifier === undefined ? '' : decryptText(keys.encryptionKey, p.identifier), p]),
    );
    const alice = byId.get('101');
    expect(alice?.identifierKind).toBe('user_id');
    expect(alice?.contact === undefined ? undefined : decryptText(keys.encryptionKey, alice.contact)).toBe(
      'Alice@Example.com',
    );
    expect(alice?.contactHash).toBe(keyedHash(keys.hmacKey, 'email:alice@example.com'));
    expect(alice?.categories).toContain('wifi_ssid');
    expect(byId.get('202')?.categories).not.toContain('health_metric');
    // Share recipients are people of their own.
    expect(byId.has('dave@example.com')).toBe(true);
    const serialized = JSON.stringify(people);
    for (const raw of ['Alice@Example.com', 'alice@example.com', 'bob@example.org', 'HomeNet-5G', '"101"']) {
      expect(serialized).not.toContain(raw);
    }
    expect(() => decryptText(randomBytes(32), alice?.contact ?? '')).toThrow();
  });

  it('refuses to combine with mergeable, and to list people when not asked to', () => {
    const signal = new AbortController().signal;
    expect(
      () => new Classifier({ hashKey: randomBytes(32), limit: 1, signal, people: true, mergeable: true }),
    ).toThrow(RangeError);
    expect(() => new Classifier({ hashKey: randomBytes(32), limit: 1, signal }).people(keys)).toThrow(
      RangeError,
    );
  });
});
