import type { ProblemSink } from './input-problem.js';
import type { InputRecord } from './read-records.js';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

type Action = 'index' | 'create' | 'update' | 'delete';
const actions: readonly string[] = ['index', 'create', 'update', 'delete'] satisfies Action[];

/**
 * The action of a bulk line (`{"index": {"_index": "users", "_id": "1"}}`), or `undefined`.
 * Format: Elasticsearch Bulk API, "Request body" (elastic.co): one action line, then a source line
 * for index/create/update; `delete` has none.
 */
export function bulkAction(value: unknown): { action: Action; index?: string } | undefined {
  if (!isObject(value)) return undefined;
  const keys = Object.keys(value);
  const action = keys[0];
  if (keys.length !== 1 || action === undefined || !actions.includes(action)) return undefined;
  const meta = value[action];
  if (!isObject(meta)) return undefined;
  return typeof meta._index === 'string'
    ? { action: action as Action, index: meta._index }
    : { action: action as Action };
}

/** Pairs bulk action lines with their source lines; call `take` for every parsed line, in order. */
export class EsBulkDecoder {
  private pending: { action: Action; index?: string } | undefined;

  constructor(
    private readonly collection: string,
    private readonly onProblem: ProblemSink,
  ) {}

  take(value: unknown, line: number): InputRecord | undefined {
    const pending = this.pending;
    if (pending !== undefined) {
      this.pending = undefined;
      const collection = pending.index ?? this.collection;
      // An update's source is `{"doc": {...}}` or `{"upsert": {...}}` (or a script, not data).
      const record = pending.action === 'update' && isObject(value) ? (value.doc ?? value.upsert) : value;
      if (isObject(record)) return { collection, record };
      if (pending.action !== 'update') this.onProblem({ kind: 'malformed', unit: 'line', at: line });
      return undefined;
    }
    const action = bulkAction(value);
    if (action === undefined) {
      this.onProblem({ kind: 'malformed', unit: 'line', at: line });
      return undefined;
    }
    if (action.action !== 'delete') this.pending = action;
    return undefined;
  }

  /** A line that could not be parsed: if it was a source line, the next line is an action again. */
  skip(): void {
    this.pending = undefined;
  }
}
