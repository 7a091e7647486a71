// SQL arrays nest at most 6 deep (PostgreSQL's MAXDIM); below this depth only parsed JSON columns,
// which are plain already.
const maxTypedDepth = 8;

/**
 * A column value as the classifier takes it: JSON-like. SQL drivers hand over Dates (timestamps;
 * MySQL's zero dates as invalid Dates), Buffers (bytea, BLOB), strings for int8/numeric/DECIMAL,
 * parsed JSON and driver classes (intervals, points). Binary values are left out (`undefined`):
 * they are not text to classify.
 */
export function plainRecordValue(value: unknown, depth = 0): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Uint8Array || typeof value !== 'object') return undefined;
  if (depth >= maxTypedDepth) return value;
  if (Array.isArray(value)) return value.map((v: unknown) => plainRecordValue(v, depth + 1) ?? null);
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) return value;
  // Driver classes: their own fields, as plain data.
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, plainRecordValue(v, depth + 1) ?? null]),
  );
}

/**
 * A row as a plain record of its non-binary columns. `fromEntries` defines own properties, so a
 * column named `__proto__` stays a column.
 */
export function plainRecord(columns: Iterable<readonly [string, unknown]>): Record<string, unknown> {
  const entries: [string, unknown][] = [];
  for (const [name, value] of columns) {
    const plain = plainRecordValue(value);
    if (plain !== undefined) entries.push([name, plain]);
  }
  return Object.fromEntries(entries);
}
