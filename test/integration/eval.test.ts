import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isValidPhoneNumber } from 'libphonenumber-js/max';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CorpusLabels, FileLabels } from '../../corpus/corpus-labels.js';
import { readCorpusLabels } from '../../corpus/corpus-labels.js';
import { runEval } from '../../corpus/eval.js';
import { generateDataset, type DatasetSummary } from '../../corpus/generate-dataset.js';
import { scoreClassification, type ClassifiedFile } from '../../corpus/score-classification.js';
import type { Category } from '../../src/core/category.js';

const fileLabels: FileLabels = {
  format: 'ndjson',
  collections: {
    users: {
      records: 3,
      fields: { email: ['email'], 'home.net.gateway': ['ip_address', 'network_layout'], plan: [] },
    },
  },
  subjects: { total: 3, byCategory: { email: 3, ip_address: 2, network_layout: 2 } },
};

function classified(overrides: Partial<ClassifiedFile>): ClassifiedFile {
  return {
    file: 'users.ndjson',
    labels: fileLabels,
    fields: [
      { collection: 'x', path: 'email', categories: ['email'], records: 3, subjects: 3, confidence: 1 },
      {
        collection: 'x',
        path: 'home.net.gateway',
        categories: ['ip_address', 'network_layout'],
        records: 2,
        subjects: 2,
        confidence: 1,
      },
    ],
    subjects: { total: 3, byCategory: { email: 3, ip_address: 2, network_layout: 2 } },
    collections: [{ name: 'users', records: 3 }],
    ...overrides,
  };
}

describe('scoreClassification', () => {
  it('scores a perfect result as F1 1 with exact counts, whatever the single collection is called', () => {
    const score = scoreClassification([classified({})], { minF1: 0.95 });
    expect(score.micro).toMatchObject({ tp: 3, fp: 0, fn: 0, f1: 1 });
    expect(score.fieldErrors).toEqual([]);
    expect(score.subjects.every((s) => s.measured === s.expected)).toBe(true);
    expect(score.passed).toBe(true);
  });

  it('counts misses, false positives and unlabelled paths per category and fails the gate', () => {
    const score = scoreClassification(
      [
        classified({
          fields: [
            {
              collection: 'users',
              path: 'home.net.gateway',
              categories: ['ip_address'],
              records: 2,
              subjects: 2,
              confidence: 1,
            },
            {
              collection: 'users',
              path: 'plan',
              categories: ['username'],
              records: 3,
              subjects: 3,
              confidence: 0.6,
            },
            {
              collection: 'users',
              path: 'extra',
              categories: ['phone'],
              records: 1,
              subjects: 1,
              confidence: 0.6,
            },
          ],
        }),
      ],
      { minF1: 0.95 },
    );
    const by = new Map(score.categories.map((c) => [c.category, c]));
    expect(by.get('email')).toMatchObject({ tp: 0, fn: 1, recall: 0 });
    expect(by.get('network_layout')).toMatchObject({ tp: 0, fn: 1 });
    expect(by.get('ip_address')).toMatchObject({ tp: 1, fp: 0, fn: 0, f1: 1 });
    expect(by.get('username')).toMatchObject({ fp: 1, precision: 0 });
    expect(by.get('phone')).toMatchObject({ fp: 1 });
    expect(score.micro).toMatchObject({ tp: 1, fp: 2, fn: 2 });
    expect(score.micro.f1).toBeCloseTo((2 * (1 / 3) * (1 / 3)) / (2 / 3));
    expect(score.fieldErrors).toContainEqual({
      file: 'users.ndjson',
      collection: 'users',
      path: 'home.net.gateway',
      expected: ['ip_address', 'network_layout'],
      got: ['ip_address'],
      labelled: true,
    });
    expect(score.fieldErrors.find((e) => e.path === 'extra')?.labelled).toBe(false);
    expect(score.passed).toBe(false);
    expect(score.failures[0]).toMatch(/micro F1/);
  });

  it('fails on one person off, reports the relative error, and keeps Elasticsearch indices apart', () => {
    const score = scoreClassification(
      [classified({ subjects: { total: 4, byCategory: { email: 3, ip_address: 2, network_layout: 2 } } })],
      { minF1: 0.95 },
    );
    const total = score.subjects.find((s) => s.category === 'total')!;
    expect(total).toMatchObject({ expected: 3, measured: 4 });
    expect(total.relative).toBeCloseTo(1 / 3);
    expect(score.passed).toBe(false);

    const es: FileLabels = {
      format: 'es-bulk',
      collections: { a: { fields: { email: ['email'] } }, b: { fields: { email: [] } } },
    };
    const esScore = scoreClassification(
      [
        {
          file: 'bulk.ndjson',
          labels: es,
          fields: [
            { collection: 'b', path: 'email', categories: ['email'], records: 1, subjects: 1, confidence: 1 },
          ],
          subjects: { total: 1, byCategory: {} },
        },
      ],
      { minF1: 0.95 },
    );
    expect(esScore.micro).toMatchObject({ tp: 0, fp: 1, fn: 1 });
  });
});

// ---- The generator's ground truth, recomputed independently from the files it wrote ----

/** Leaf paths (DESIGN.md grammar) of a record with their non-null scalar values. */
function leaves(value: unknown, prefix: string, out: Map<string, unknown[]>): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    for (const item of value) leaves(item, `${prefix}[]`, out);
    return;
  }
  if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) leaves(v, prefix === '' ? k : `${prefix}.${k}`, out);
    return;
  }
  if (typeof value === 'string' && value.startsWith('{')) {
    leaves(JSON.parse(value), prefix, out);
    return;
  }
  if (value === '') return;
  let list = out.get(prefix);
  if (!list) out.set(prefix, (list = []));
  list.push(value);
}

const emailIn = /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/;
const phoneIn = /\+?[\d(][\d() -]{8,}\d/;

/** People per category of one file, counted from its records and the field labels only. */
function recount(records: { collection: string; record: unknown }[], labels: FileLabels) {
  const people = new Map<string, Set<Category>>();
  let anonymous = 0;
  const add = (who: string, c: Category): void => {
    let set = people.get(who);
    if (!set) people.set(who, (set = new Set()));
    set.add(c);
  };
  const idFields = ['user_id', 'userId', 'uid', 'owner_id', 'owner_email'];
  const recipientFields = ['shared_with[].email', 'sharedWith[].email'];
  const paths = new Set<string>();
  for (const { collection, record } of records) {
    const fields = labels.collections[collection]!.fields;
    const flat = new Map<string, unknown[]>();
    leaves(record, '', flat);
    const idField = idFields.find((f) => flat.has(f));
    const who = idField === undefined ? `anonymous ${anonymous++}` : `id ${String(flat.get(idField)![0])}`;
    for (const [path, values] of flat) {
      paths.add(`${collection} ${path}`);
      const cats = fields[path];
      expect(cats, `${collection} ${path} is labelled`).toBeDefined();
      if (recipientFields.includes(path)) {
        for (const v of values) add(`email ${String(v)}`, 'email');
        continue;
      }
      for (const c of cats!) {
        // Free text holds a category only where a value shows it.
        if (path === 'message' && c === 'email' && !values.some((v) => emailIn.test(String(v)))) continue;
        if (path === 'message' && c === 'phone' && !values.some((v) => phoneIn.test(String(v)))) continue;
        add(who, c);
      }
    }
  }
  const byCategory: Partial<Record<Category, number>> = {};
  for (const cats of people.values()) for (const c of cats) byCategory[c] = (byCategory[c] ?? 0) + 1;
  return { total: people.size, byCategory, paths };
}

function parseCsv(text: string): Record<string, string>[] {
  const rows = text
    .trim()
    .split('\n')
    .map((line) => {
      const cells: string[] = [];
      for (const m of line.matchAll(/("([^"]*)"|[^,]*)(,|$)/g)) {
        cells.push(m[2] ?? m[1]!);
        if (m[3] === '') break;
      }
      return cells;
    });
  const header = rows[0]!;
  return rows.slice(1).map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
}

function readGenerated(dir: string, file: string): { collection: string; record: unknown }[] {
  const text = readFileSync(join(dir, file), 'utf8');
  switch (file) {
    case 'accounts.ndjson':
    case 'profiles.ndjson': {
      const collection = file.replace('.ndjson', '');
      return text
        .trim()
        .split('\n')
        .map((l) => ({ collection, record: JSON.parse(l) as unknown }));
    }
    case 'devices.csv':
      return parseCsv(text).map((record) => ({ collection: 'devices', record }));
    case 'scale_users.json':
      return (JSON.parse(text) as unknown[]).map((record) => ({ collection: 'scale_users', record }));
    default: {
      const lines = text.trim().split('\n');
      const out: { collection: string; record: unknown }[] = [];
      for (let i = 0; i < lines.length; i += 2) {
        const action = JSON.parse(lines[i]!) as { index: { _index: string } };
        out.push({ collection: action.index._index, record: JSON.parse(lines[i + 1]!) as unknown });
      }
      return out;
    }
  }
}

describe('generateDataset', () => {
  let dir: string;
  let summary: DatasetSummary;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'leakwatch-gen-'));
    summary = generateDataset({ users: 3000, seed: 7, out: join(dir, 'a') });
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('is deterministic from the seed', () => {
    generateDataset({ users: 3000, seed: 7, out: join(dir, 'b') });
    for (const f of Object.keys(summary.labels.files)) {
      expect(readFileSync(join(dir, 'b', f)).equals(readFileSync(join(dir, 'a', f))), f).toBe(true);
    }
    generateDataset({ users: 300, seed: 8, out: join(dir, 'c') });
    expect(readFileSync(join(dir, 'c', 'accounts.ndjson'), 'utf8').slice(0, 200)).not.toBe(
      readFileSync(join(dir, 'a', 'accounts.ndjson'), 'utf8').slice(0, 200),
    );
  });

  it('labels every path it writes, writes every path it labels, and its people counts hold', () => {
    const written = readCorpusLabels(join(dir, 'a', 'labels.json'));
    expect(written).toEqual(summary.labels);
    for (const [file, labels] of Object.entries(written.files)) {
      const records = readGenerated(join(dir, 'a'), file);
      const { total, byCategory, paths } = recount(records, labels);
      for (const [collection, col] of Object.entries(labels.collections)) {
        expect(records.filter((r) => r.collection === collection).length, `${file} records`).toBe(
          col.records,
        );
        for (const path of Object.keys(col.fields))
          expect(paths, `${file} writes ${path}`).toContain(`${collection} ${path}`);
      }
      expect({ total, byCategory }, file).toEqual(labels.subjects);
    }
  });

  it('has the story shape: ~140 beta users, ~1% Alexa tokens, ~2% duplicates, valid phone numbers', () => {
    const { files } = summary.labels;
    expect(files['scale_users.json']!.subjects!.total).toBe(140);
    const oauth =
      (files['accounts.ndjson']!.subjects!.byCategory.oauth_token ?? 0) +
      (files['profiles.ndjson']!.subjects!.byCategory.oauth_token ?? 0);
    expect(oauth).toBeGreaterThan(10);
    expect(oauth).toBeLessThan(60);
    const accounts = readGenerated(join(dir, 'a'), 'accounts.ndjson');
    const ids = new Set(accounts.map((r) => (r.record as { user_id: number }).user_id));
    const duplicates = accounts.length - ids.size;
    expect(duplicates / ids.size).toBeGreaterThan(0.01);
    expect(duplicates / ids.size).toBeLessThan(0.03);
    for (const r of readGenerated(join(dir, 'a'), 'profiles.ndjson')) {
      const p = (r.record as { phoneNumber?: string }).phoneNumber;
      if (p !== undefined) expect(isValidPhoneNumber(p, 'US'), p).toBe(true);
    }
  });
});

describe('hand-written corpus', () => {
  it('labels every path of every hand-written file', () => {
    const root = join(import.meta.dirname, '../../corpus');
    const labels: CorpusLabels = readCorpusLabels(join(root, 'labels.json'));
    for (const [file, l] of Object.entries(labels.files)) {
      const text = readFileSync(join(root, file), 'utf8');
      const [name] = Object.keys(l.collections);
      let records: unknown[];
      if (l.format === 'ndjson')
        records = text
          .trim()
          .split('\n')
          .map((x) => JSON.parse(x) as unknown);
      else if (l.format === 'json') records = JSON.parse(text) as unknown[];
      else if (l.format === 'es-search')
        records = (JSON.parse(text) as { hits: { hits: { _source: unknown }[] } }).hits.hits.map(
          (h) => h._source,
        );
      else {
        const sep = l.format === 'tsv' ? '\t' : ',';
        const [header, ...rows] = text
          .trim()
          .split('\n')
          .map((r) => r.split(sep));
        records = rows.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i]])));
      }
      const paths = new Set<string>();
      for (const r of records) {
        const flat = new Map<string, unknown[]>();
        leaves(r, '', flat);
        for (const p of flat.keys()) paths.add(p);
      }
      expect([...paths].sort(), file).toEqual(Object.keys(l.collections[name!]!.fields).sort());
      expect(records.length, file).toBe(l.collections[name!]!.records);
    }
  });
});

describe('eval (3,000 users + hand-written corpus)', () => {
  it('meets the goals: field-level micro F1 >= 0.95 and exact person counts', async () => {
    const run = await runEval({ users: 3000, seed: 11, minF1: 0.95 });
    const wrongFields = run.score.fieldErrors.map(
      (e) => `${e.file} ${e.path}: expected ${e.expected.join(',') || '-'}, got ${e.got.join(',') || '-'}`,
    );
    const wrongCounts = run.score.subjects
      .filter((s) => s.measured !== s.expected)
      .map((s) => `${s.file} ${s.category}: expected ${s.expected}, got ${s.measured}`);
    expect(run.score.fileErrors).toEqual([]);
    expect(wrongCounts).toEqual([]);
    expect(run.score.micro.f1, wrongFields.join('\n')).toBeGreaterThanOrEqual(0.95);
  });
});
