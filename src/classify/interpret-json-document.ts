import type { InputRecord } from './read-records.js';
import { unwrapEsHit } from './unwrap-es-hit.js';

/** How a whole JSON document was read: its records and which shape it had. */
export interface JsonDocument {
  shape: 'array' | 'es-search' | 'wrapped-array' | 'object';
  records: Iterable<InputRecord>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isArrayOfObjects(value: unknown): value is unknown[] {
  return Array.isArray(value) && value.length > 0 && value.every(isObject);
}

function* unwrapAll(values: readonly unknown[], collection: string): Generator<InputRecord> {
  for (const value of values) yield unwrapEsHit(value, collection);
}

/**
 * Reads one parsed JSON document as records:
 * - an array: its elements (Elasticsearch hits unwrapped);
 * - an Elasticsearch search response (`hits.hits[]._source`, collection `_index`);
 * - an object with exactly one array of objects (`{"users": [...], "total": 2}`): its elements in
 *   collection `users`, plus the rest of the object as one record when it holds more than counts;
 * - any other object: one record.
 */
export function interpretJsonDocument(value: unknown, collection: string): JsonDocument {
  if (Array.isArray(value)) return { shape: 'array', records: unwrapAll(value, collection) };
  if (!isObject(value)) return { shape: 'object', records: [{ collection, record: value }] };
  const hits = isObject(value.hits) ? value.hits.hits : undefined;
  if (Array.isArray(hits)) return { shape: 'es-search', records: unwrapAll(hits, collection) };
  const arrays = Object.keys(value).filter((key) => isArrayOfObjects(value[key]));
  const key = arrays[0];
  if (arrays.length !== 1 || key === undefined)
    return { shape: 'object', records: [{ collection, record: value }] };
  const elements = value[key] as unknown[];
  const rest = Object.fromEntries(Object.entries(value).filter(([k]) => k !== key));
  // An envelope's counters (`total`, `page`) are not a record; names, ids and nested data are.
  const restMatters = Object.values(rest).some(
    (v) => typeof v === 'string' || (typeof v === 'object' && v !== null),
  );
  return {
    shape: 'wrapped-array',
    records: (function* () {
      yield* unwrapAll(elements, key);
      if (restMatters) yield { collection, record: rest };
    })(),
  };
}
