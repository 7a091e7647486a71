import type { ProbeContext, RecordSink, RecordTextFormat } from '../src/connectors/connector.js';

/** A test double of our own RecordSink interface: keeps every record and text per collection. */
export class CollectingSink implements RecordSink {
  readonly records = new Map<string, unknown[]>();
  readonly texts = new Map<string, { text: string; format: RecordTextFormat }>();

  constructor(
    readonly limit: number,
    readonly signal: AbortSignal = AbortSignal.timeout(20_000),
  ) {}

  add(collection: string, record: unknown): void {
    const list = this.records.get(collection) ?? [];
    list.push(record);
    this.records.set(collection, list);
  }

  addText(collection: string, text: string, format: RecordTextFormat): void {
    this.texts.set(collection, { text, format });
  }

  /** The values at top-level key `path` of every record of `collection`. */
  values(collection: string, path: string): unknown[] {
    return (this.records.get(collection) ?? []).map((r) => (r as Record<string, unknown>)[path]);
  }
}

/**
 * A probe context for calling a connector directly. The probe's own deadline is short, as in a
 * scan; sampling runs on the sink's signal.
 */
export function probeContext(
  sampler?: RecordSink,
  options: { timeoutMs?: number; maxBytes?: number } = {},
): ProbeContext {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    signal: AbortSignal.timeout(timeoutMs),
    timeoutMs,
    maxBytes: options.maxBytes ?? 8 << 20,
    checkScope: () => Promise.resolve(),
    ...(sampler === undefined ? {} : { sampler }),
  };
}
