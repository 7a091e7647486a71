import { describe, expect, it } from 'vitest';
import { defaultFlattenLimits, FieldTree, flattenRecord, FlatValues } from './flatten-record.js';

function flatten(record: unknown, tree = new FieldTree<undefined>('coll', () => undefined)) {
  const out = new FlatValues<undefined>();
  flattenRecord(tree, record, out);
  const pairs: [string, unknown][] = [];
  for (let i = 0; i < out.length; i++) pairs.push([out.nodes[i]?.path ?? '?', out.values[i]]);
  return { pairs, out, tree };
}

describe('flattenRecord', () => {
  it('joins keys with dots and marks array steps', () => {
    const { pairs } = flatten({
      email: 'a@example.com',
      home: { net: { ssid: 'Home' } },
      cams: [{ mac: '00:11:22:33:44:55' }, { mac: '66:77:88:99:aa:bb', tags: ['x', 'y'] }],
      n: 3,
      ok: true,
      none: null,
      empty: '',
    });
    expect(pairs).toEqual([
      ['email', 'a@example.com'],
      ['home.net.ssid', 'Home'],
      ['cams[].mac', '00:11:22:33:44:55'],
      ['cams[].mac', '66:77:88:99:aa:bb'],
      ['cams[].tags[]', 'x'],
      ['cams[].tags[]', 'y'],
      ['n', 3],
      ['ok', true],
    ]);
  });

  it('continues paths into JSON held in strings', () => {
    const { pairs } = flatten({
      payload: JSON.stringify({ user: { email: 'b@example.com' }, ids: [1] }),
      text: '{not json',
      list: ' [ "a" ] ',
    });
    expect(pairs).toEqual([
      ['payload.user.email', 'b@example.com'],
      ['payload.ids[]', 1],
      ['text', '{not json'],
      ['list[]', 'a'],
    ]);
  });

  it('names a scalar record by its collection', () => {
    expect(flatten('a@example.com').pairs).toEqual([['coll', 'a@example.com']]);
    expect(flatten([1, 2]).pairs).toEqual([
      ['[]', 1],
      ['[]', 2],
    ]);
  });

  it('stops at the depth cap on a 10,000-level document without overflowing the stack', () => {
    // Built as text: JSON.stringify itself would overflow on this.
    const text = `${'{"v":1,"a":'.repeat(10_000)}{"leaf":"x"}${'}'.repeat(10_000)}`;
    const { out, pairs } = flatten(JSON.parse(text));
    expect(out.truncated).toBe(true);
    expect(pairs.length).toBe(defaultFlattenLimits.maxDepth);
    expect(pairs[0]).toEqual(['v', 1]);
    expect(pairs[1]).toEqual(['a.v', 1]);
  });

  it('skips and counts strings over the size cap', () => {
    const huge = 'x'.repeat(defaultFlattenLimits.maxStringLength + 1);
    const { out, pairs } = flatten({ blob: huge, json: `[${'1,'.repeat(600_000)}1]`, ok: 'y' });
    expect(out.oversized).toBe(2);
    expect(pairs).toEqual([['ok', 'y']]);
  });

  it('caps values per record and items per array', () => {
    const { out, pairs } = flatten({ a: Array.from({ length: 5_000 }, (_, i) => i) });
    expect(pairs.length).toBe(defaultFlattenLimits.maxArrayItems);
    expect(out.truncated).toBe(true);

    const wide: Record<string, number> = {};
    for (let i = 0; i < 20_000; i++) wide[`k${i % 900}_${Math.floor(i / 900)}`] = i;
    const result = flatten(wide);
    expect(result.pairs.length).toBe(defaultFlattenLimits.maxValues);
    expect(result.out.truncated).toBe(true);
  });

  it('folds keys used as ids into one `*` path per object', () => {
    const record: Record<string, { email: string }> = {};
    for (let i = 0; i < 1_500; i++) record[`user${i}`] = { email: `u${i}@example.com` };
    const { pairs, tree } = flatten({ users: record });
    const paths = new Set(pairs.map(([p]) => p));
    expect(paths.has('users.*.email')).toBe(true);
    expect(paths.size).toBe(defaultFlattenLimits.maxChildren + 1);
    expect(tree.nodes).toBeLessThan(2 * defaultFlattenLimits.maxChildren + 10);
  });

  it('takes dates as ISO strings and skips binary values', () => {
    const { pairs, out } = flatten({ at: new Date(0), raw: new Uint8Array(4), big: 12n });
    expect(pairs).toEqual([
      ['at', '1970-01-01T00:00:00.000Z'],
      ['big', '12'],
    ]);
    expect(out.binary).toBe(1);
  });

  it('reuses paths across records with keys in another order', () => {
    const tree = new FieldTree<undefined>('c', () => undefined);
    flatten({ a: 1, b: { c: 2 } }, tree);
    const nodes = tree.nodes;
    const { pairs } = flatten({ b: { c: 3 }, a: 4 }, tree);
    expect(pairs).toEqual([
      ['b.c', 3],
      ['a', 4],
    ]);
    expect(tree.nodes).toBe(nodes);
  });
});
