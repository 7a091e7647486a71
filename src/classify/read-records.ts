import { open, type FileHandle } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { RecordTextFormat } from '../connectors/connector.js';
import { InputError } from '../core/errors.js';
import { CsvParser } from './csv-parser.js';
import { describeBinary } from './describe-binary.js';
import { detectInputFormat } from './detect-input-format.js';
import { EsBulkDecoder } from './es-bulk-decoder.js';
import type { ProblemSink } from './input-problem.js';
import { interpretJsonDocument, type JsonDocument } from './interpret-json-document.js';
import { JsonArraySplitter } from './json-array-splitter.js';
import { LineSplitter, type Line } from './line-splitter.js';
import { unwrapEsHit } from './unwrap-es-hit.js';

/** Formats `leakwatch classify` reads; `es-bulk` and `es-search` are Elasticsearch exports. */
export type InputFormat = RecordTextFormat | 'es-bulk' | 'es-search';
export const inputFormats = [
  'json',
  'ndjson',
  'csv',
  'tsv',
  'es-bulk',
  'es-search',
] as const satisfies readonly InputFormat[];

/** One record and the collection it belongs to (file name, CSV name, Elasticsearch `_index`). */
export interface InputRecord {
  collection: string;
  record: unknown;
}

/** Caps that keep memory bounded whatever the file holds. */
export interface InputLimits {
  /** One NDJSON line, JSON array element or CSV record; larger ones are skipped and counted. */
  maxRecordBytes: number;
  /** A JSON document that is not an array is parsed whole, so it has its own, firmer cap. */
  maxDocumentBytes: number;
}

// 32 MiB per record: far above any real record, and parsing one costs a few times that in memory.
// A whole JSON object is held as bytes, text and parsed value at once (about 4x its size), hence
// the same cap: together they keep a hostile file within ~300 MB of the process's baseline.
export const defaultInputLimits: InputLimits = {
  maxRecordBytes: 32 * 1024 * 1024,
  maxDocumentBytes: 32 * 1024 * 1024,
};

export interface ReadRecordsOptions {
  /** Detected from the name and the first bytes when absent. */
  format?: InputFormat;
  signal?: AbortSignal;
  /** Parts skipped or kept with a caveat (a malformed line, a ragged row); reading carries on. */
  onProblem?: ProblemSink;
  /** The format read, once known (detected or forced; `es-search` when a JSON object is one). */
  onFormat?: (format: InputFormat) => void;
  limits?: Partial<InputLimits>;
}

// Enough to tell a format and binary from text; read before anything is parsed.
const headBytes = 64 * 1024;
const chunkBytes = 1024 * 1024;

/** The collection of a file's records: its name without the extension (`users.csv` → `users`). */
export function fileCollection(path: string): string {
  if (path === '-') return 'stdin';
  const name = basename(path);
  const base = name.slice(0, name.length - extname(name).length);
  return base === '' ? name : base;
}

function errnoText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory, not a file';
    case undefined:
      return error instanceof Error ? error.name : 'read failed';
    default:
      return `cannot read (${code})`;
  }
}

/** A byte stream whose first bytes can be looked at before it is consumed, once. */
class ChunkSource {
  private readonly pending: Buffer[] = [];

  constructor(
    private readonly iterator: AsyncIterator<unknown>,
    private readonly close: () => Promise<void>,
  ) {}

  /** Up to `bytes` first bytes, UTF-8 byte order mark removed; kept for `chunks()`. */
  async head(bytes: number): Promise<Buffer> {
    let size = 0;
    while (size < bytes) {
      const next = await this.next();
      if (next === undefined) break;
      this.pending.push(next);
      size += next.length;
    }
    let joined = Buffer.concat(this.pending);
    if (joined[0] === 0xef && joined[1] === 0xbb && joined[2] === 0xbf) joined = joined.subarray(3);
    this.pending.length = 0;
    if (joined.length > 0) this.pending.push(joined);
    return joined.subarray(0, bytes);
  }

  async *chunks(): AsyncGenerator<Buffer> {
    while (this.pending.length > 0) yield this.pending.shift() as Buffer;
    for (;;) {
      const next = await this.next();
      if (next === undefined) return;
      yield next;
    }
  }

  async dispose(): Promise<void> {
    await this.iterator.return?.();
    await this.close();
  }

  private async next(): Promise<Buffer | undefined> {
    let result: IteratorResult<unknown>;
    try {
      result = await this.iterator.next();
    } catch (error) {
      if (error instanceof Error && error.name === 'AbortError') throw error;
      throw new InputError(errnoText(error), { cause: error });
    }
    if (result.done === true) return undefined;
    return Buffer.isBuffer(result.value) ? result.value : Buffer.from(String(result.value));
  }
}

async function openSource(path: string, signal: AbortSignal | undefined): Promise<ChunkSource> {
  if (path === '-') return new ChunkSource(process.stdin[Symbol.asyncIterator](), () => Promise.resolve());
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new InputError(errnoText(error), { cause: error });
  }
  try {
    // open(2) succeeds on a directory; reading it fails later with a less clear EISDIR.
    if ((await handle.stat()).isDirectory()) throw new InputError('is a directory, not a file');
  } catch (error) {
    await handle.close();
    if (error instanceof InputError) throw error;
    throw new InputError(errnoText(error), { cause: error });
  }
  const stream = handle.createReadStream({ highWaterMark: chunkBytes, ...(signal ? { signal } : {}) });
  return new ChunkSource(stream[Symbol.asyncIterator](), async () => {
    stream.destroy();
    await handle.close().catch(() => undefined);
  });
}

function ignore(): void {
  // No sink: problems are counted only by callers that ask.
}

/**
 * Streams the records of a file (`-` for stdin) with bounded memory, detecting its format. Throws
 * `InputError` with a clear message when the file cannot be records.
 */
export async function* readRecordsFile(
  path: string,
  options: ReadRecordsOptions = {},
): AsyncGenerator<InputRecord> {
  const limits = { ...defaultInputLimits, ...options.limits };
  const onProblem = options.onProblem ?? ignore;
  const collection = fileCollection(path);
  const source = await openSource(path, options.signal);
  try {
    const head = await source.head(headBytes);
    if (head.length === 0) return;
    const binary = describeBinary(head);
    if (binary !== undefined) throw new InputError(binary);
    const format = options.format ?? detectInputFormat(path, head);
    switch (format) {
      case 'ndjson':
      case 'es-bulk':
        options.onFormat?.(format);
        yield* readLines(source.chunks(), { bulk: format === 'es-bulk', collection, limits, onProblem });
        return;
      case 'csv':
      case 'tsv':
        options.onFormat?.(format);
        yield* readCsv(source.chunks(), {
          delimiter: format === 'csv' ? ',' : '\t',
          collection,
          limits,
          onProblem,
        });
        return;
      case 'json':
      case 'es-search': {
        if (head.toString('latin1').trimStart().startsWith('[')) {
          options.onFormat?.('json');
          yield* readJsonArray(source.chunks(), { collection, limits, onProblem });
          return;
        }
        const document = await readJsonDocument(source.chunks(), collection, limits);
        options.onFormat?.(document.shape === 'es-search' ? 'es-search' : 'json');
        yield* document.records;
        return;
      }
    }
  } finally {
    await source.dispose();
  }
}

interface ReaderOptions {
  collection: string;
  limits: InputLimits;
  onProblem: ProblemSink;
}

async function* readLines(
  chunks: AsyncIterable<Buffer>,
  options: ReaderOptions & { bulk: boolean },
): AsyncGenerator<InputRecord> {
  const { collection, onProblem } = options;
  const splitter = new LineSplitter({
    maxLineBytes: options.limits.maxRecordBytes,
    onOverlong: (at) => {
      onProblem({ kind: 'oversized', unit: 'line', at });
    },
  });
  const bulk = options.bulk ? new EsBulkDecoder(collection, onProblem) : undefined;
  const decode = (line: Line): InputRecord | undefined => {
    const text = line.bytes.toString('utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      // Blank lines are allowed between records (and at the end); only test for them on failure.
      if (text.trim() !== '') {
        onProblem({ kind: 'malformed', unit: 'line', at: line.number });
        bulk?.skip();
      }
      return undefined;
    }
    return bulk ? bulk.take(value, line.number) : unwrapEsHit(value, collection);
  };
  for await (const chunk of chunks) {
    for (const line of splitter.push(chunk)) {
      const record = decode(line);
      if (record !== undefined) yield record;
    }
  }
  for (const line of splitter.end()) {
    const record = decode(line);
    if (record !== undefined) yield record;
  }
}

async function* readCsv(
  chunks: AsyncIterable<Buffer>,
  options: ReaderOptions & { delimiter: ',' | '\t' },
): AsyncGenerator<InputRecord> {
  const { collection } = options;
  const parser = new CsvParser({
    delimiter: options.delimiter,
    maxRecordChars: options.limits.maxRecordBytes,
    onProblem: options.onProblem,
  });
  // Replaces invalid UTF-8 with U+FFFD and keeps a sequence split across chunks whole.
  const decoder = new StringDecoder('utf8');
  for await (const chunk of chunks) {
    for (const record of parser.push(decoder.write(chunk))) yield { collection, record };
  }
  for (const record of parser.push(decoder.end())) yield { collection, record };
  for (const record of parser.end()) yield { collection, record };
}

async function* readJsonArray(
  chunks: AsyncIterable<Buffer>,
  options: ReaderOptions,
): AsyncGenerator<InputRecord> {
  const splitter = new JsonArraySplitter({
    maxElementBytes: options.limits.maxRecordBytes,
    onProblem: options.onProblem,
  });
  for await (const chunk of chunks) {
    for (const value of splitter.push(chunk)) yield unwrapEsHit(value, options.collection);
  }
  splitter.end();
}

async function readJsonDocument(
  chunks: AsyncIterable<Buffer>,
  collection: string,
  limits: InputLimits,
): Promise<JsonDocument> {
  // Decoded chunk by chunk so the bytes are garbage as soon as they are text: one copy, not two.
  const decoder = new StringDecoder('utf8');
  let text = '';
  let size = 0;
  for await (const chunk of chunks) {
    size += chunk.length;
    if (size > limits.maxDocumentBytes) {
      const mib = Math.round(limits.maxDocumentBytes / 1024 / 1024);
      throw new InputError(
        `JSON object larger than ${mib} MiB; convert it to JSON Lines (e.g. jq -c '.hits.hits[]') or an array`,
      );
    }
    text += decoder.write(chunk);
  }
  text += decoder.end();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // V8's message quotes the input: say where and what only, never the text.
    const ended = error instanceof SyntaxError && /end of JSON|Unterminated/i.test(error.message);
    throw new InputError(ended ? 'not valid JSON: the document ends early (truncated?)' : 'not valid JSON', {
      cause: error,
    });
  }
  return interpretJsonDocument(value, collection);
}

/** Parses a whole document already in memory (an HTTP data file) into records. */
export function* parseRecordsText(
  text: string,
  format: RecordTextFormat,
  collection: string,
): Generator<InputRecord> {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  switch (format) {
    case 'csv':
    case 'tsv': {
      const parser = new CsvParser({
        delimiter: format === 'csv' ? ',' : '\t',
        maxRecordChars: defaultInputLimits.maxRecordBytes,
        onProblem: ignore,
      });
      for (const record of parser.push(body)) yield { collection, record };
      for (const record of parser.end()) yield { collection, record };
      return;
    }
    case 'json': {
      let value: unknown;
      try {
        value = JSON.parse(body);
      } catch {
        // A `.json` URL often serves JSON Lines; read it as such rather than give up.
        yield* parseLines(body, collection);
        return;
      }
      yield* interpretJsonDocument(value, collection).records;
      return;
    }
    case 'ndjson':
      yield* parseLines(body, collection);
      return;
  }
}

function* parseLines(text: string, collection: string): Generator<InputRecord> {
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    yield unwrapEsHit(value, collection);
  }
}
