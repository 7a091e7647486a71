import { describe, expect, it } from 'vitest';
import { interpretJsonDocument } from './interpret-json-document.js';

function read(value: unknown) {
  const document = interpretJsonDocument(value, 'file');
  return { shape: document.shape, records: [...document.records] };
}

describe('interpretJsonDocument', () => {
  it('reads an array as its elements, unwrapping Elasticsearch hits', () => {
    expect(read([{ a: 1 }, { _index: 'users', _id: '1', _source: { b: 2 } }])).toEqual({
      shape: 'array',
      records: [
        { collection: 'file', record: { a: 1 } },
        { collection: 'users', record: { b: 2 } },
      ],
    });
  });

  it('reads a search response as hits.hits[]._source in collection _index', () => {
    const response = {
      took: 3,
      hits: {
        total: { value: 2 },
        hits: [
          { _index: 'a', _source: { x: 1 } },
          { _index: 'b', _source: { y: 2 } },
        ],
      },
    };
    expect(read(response)).toEqual({
      shape: 'es-search',
      records: [
        { collection: 'a', record: { x: 1 } },
        { collection: 'b', record: { y: 2 } },
      ],
    });
  });

  it('reads {"users": [...]} as collection users, keeping non-counter fields as one record', () => {
    expect(read({ total: 2, users: [{ e: 1 }, { e: 2 }] }).records).toEqual([
      { collection: 'users', record: { e: 1 } },
      { collection: 'users', record: { e: 2 } },
    ]);
    expect(read({ owner: 'x', devices: [{ mac: 1 }] }).records).toEqual([
      { collection: 'devices', record: { mac: 1 } },
      { collection: 'file', record: { owner: 'x' } },
    ]);
  });

  it('reads any other object (two arrays, arrays of scalars) as one record', () => {
    const twoArrays = { a: [{ x: 1 }], b: [{ y: 1 }] };
    expect(read(twoArrays)).toEqual({
      shape: 'object',
      records: [{ collection: 'file', record: twoArrays }],
    });
    expect(read({ tags: ['a', 'b'] }).records).toHaveLength(1);
  });
});
