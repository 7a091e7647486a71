import type { InputRecord } from './read-records.js';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * An Elasticsearch hit (`{"_index": "users", "_id": "1", "_source": {...}}`, as in `hits.hits[]`
 * and in elasticdump's NDJSON) is its `_source` in collection `_index`; anything else is itself.
 * Shape from the Search API response body (elastic.co, "Search API", `hits.hits`).
 */
export function unwrapEsHit(value: unknown, collection: string): InputRecord {
  if (isObject(value) && typeof value._index === 'string' && isObject(value._source))
    return { collection: value._index, record: value._source };
  return { collection, record: value };
}
