import type { RecordTextFormat } from '../connectors/connector.js';

/** Formats `leakwatch classify` reads; `es-bulk` and `es-search` are Elasticsearch exports. */
export type InputFormat = RecordTextFormat | 'es-bulk' | 'es-search';

/** One record and the collection it belongs to (file name, CSV name, Elasticsearch `_index`). */
export interface InputRecord {
  collection: string;
  record: unknown;
}

export interface ReadRecordsOptions {
  /** Detected from the name and the first bytes when absent. */
  format?: InputFormat;
  signal?: AbortSignal;
}

/**
 * Streams the records of a file (`-` for stdin) with bounded memory, detecting its format. Throws
 * `InputError` with a clear message when the file cannot be records.
 */
// eslint-disable-next-line @typescript-eslint/require-await -- placeholder until the readers land
export async function* readRecordsFile(
  _path: string,
  _options: ReadRecordsOptions = {},
): AsyncGenerator<InputRecord> {
  // Filled in by the file readers.
  yield* [];
}

/** Parses a whole document already in memory (an HTTP data file) into records. */
export function* parseRecordsText(
  _text: string,
  _format: RecordTextFormat,
  _collection: string,
): Generator<InputRecord> {
  // Filled in by the file readers.
  yield* [];
}
