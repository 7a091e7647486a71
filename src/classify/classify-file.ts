import { stat } from 'node:fs/promises';
import { InputError } from '../core/errors.js';
import { fingerprint } from '../core/fingerprint.js';
import { sanitizeText } from '../core/redact.js';
import type { Indicator, ProbeStatus, StoreSize, TargetReport } from '../core/scan-report.js';
import { storeSeverity } from '../core/severity.js';
import { Classifier, type Classification } from './classifier.js';
import type { InputProblem } from './input-problem.js';
import { readRecordsFile, type InputFormat, type InputLimits } from './read-records.js';

export interface ClassifyFileOptions {
  /** Key of the keyed hashes that count people; share one across the files of a run. */
  hashKey: Uint8Array;
  /** Records read from the file (`--limit`); Infinity reads all. */
  limit: number;
  /** Forced format (`--input-format`); detected when absent. */
  format?: InputFormat;
  signal?: AbortSignal;
  limits?: Partial<InputLimits>;
  /** Called now and then with the records read so far, for a progress display. */
  onProgress?: (records: number) => void;
}

const formatNames: Record<InputFormat, string> = {
  json: 'JSON',
  ndjson: 'JSON Lines',
  csv: 'CSV',
  tsv: 'TSV',
  'es-bulk': 'Elasticsearch bulk',
  'es-search': 'Elasticsearch search response',
};

const progressEvery = 4096;

/** Counts problems by kind and unit, remembering where the first one was. */
class ProblemTally {
  private readonly counts = new Map<string, { problem: InputProblem; count: number }>();

  add(problem: InputProblem): void {
    const key = `${problem.kind} ${problem.unit}`;
    const seen = this.counts.get(key);
    if (seen) seen.count++;
    else this.counts.set(key, { problem, count: 1 });
  }

  get size(): number {
    return this.counts.size;
  }

  /** `skipped 2 malformed lines (first: line 3); 1 ragged row kept (row 7)`. */
  describe(): string {
    const skipped: string[] = [];
    const other: string[] = [];
    for (const { problem, count } of this.counts.values()) {
      const units = count === 1 ? problem.unit : `${problem.unit}s`;
      const where = `${count === 1 ? '' : 'first: '}${problem.unit} ${problem.at}`;
      switch (problem.kind) {
        case 'malformed':
        case 'oversized':
          skipped.push(`${count} ${problem.kind} ${units} (${where})`);
          break;
        case 'truncated':
          other.push(`the file ends inside ${problem.unit} ${problem.at} (truncated?)`);
          break;
        case 'trailing':
          other.push('data after the end of the JSON document ignored');
          break;
        case 'ragged':
          other.push(`${count} ${units} with another cell count than the header, kept (${where})`);
          break;
        case 'quoting':
          other.push(`${count} ${units} with stray quotes, kept as text (${where})`);
          break;
      }
    }
    return [...(skipped.length > 0 ? [`skipped ${skipped.join(', ')}`] : []), ...other].join('; ');
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/**
 * Classifies one file (`-` for stdin) into one target of the report: its records per collection,
 * which fields hold which categories, and for how many people. A file that cannot be read as records
 * ends as `status: "error"` with a one-line reason; it never throws for bad input.
 */
export async function classifyFile(path: string, options: ClassifyFileOptions): Promise<TargetReport> {
  const started = performance.now();
  const signal = options.signal ?? new AbortController().signal;
  const classifier = new Classifier({ hashKey: options.hashKey, limit: options.limit, signal });
  const problems = new ProblemTally();
  const perCollection = new Map<string, number>();
  let format: InputFormat | undefined;
  let records = 0;
  let limited = false;
  let unclassifiable = 0;
  let failure: string | undefined;
  try {
    for await (const { collection, record } of readRecordsFile(path, {
      ...(options.format ? { format: options.format } : {}),
      signal,
      ...(options.limits ? { limits: options.limits } : {}),
      onProblem: (problem) => {
        problems.add(problem);
      },
      onFormat: (detected) => {
        format = detected;
      },
    })) {
      if (records >= options.limit) {
        limited = true;
        break;
      }
      records++;
      perCollection.set(collection, (perCollection.get(collection) ?? 0) + 1);
      try {
        classifier.add(collection, record);
      } catch {
        // One hostile record (say, nested past what the engine walks) must not end the file.
        unclassifiable++;
      }
      if (records % progressEvery === 0) options.onProgress?.(records);
    }
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    failure = error.message;
  }
  options.onProgress?.(records);

  let classification: Classification | undefined;
  try {
    classification = classifier.result();
  } catch {
    failure ??= 'classification failed';
  }
  const subjects = classification?.subjects ?? { total: 0, byCategory: {} };
  const empty = records === 0 && failure === undefined && problems.size === 0;
  const status: ProbeStatus = records === 0 && !empty ? 'error' : 'open';

  const notes: string[] = [];
  if (failure !== undefined) notes.push(records === 0 ? failure : `reading stopped: ${failure}`);
  if (problems.size > 0) notes.push(problems.describe());
  if (unclassifiable > 0) notes.push(`${plural(unclassifiable, 'record')} could not be classified`);
  if (classification?.approximate !== undefined) notes.push(classification.approximate);
  let detail: string;
  if (status === 'error') {
    detail = notes.join('; ') || 'no records';
  } else {
    const what = format === undefined ? 'empty file' : formatNames[format];
    const counted = empty
      ? 'no records'
      : `${plural(records, 'record')} in ${plural(perCollection.size, 'collection')}` +
        (limited ? ' (stopped at --limit)' : '');
    detail = [`${what}: ${counted}`, ...notes].join('; ');
  }

  const size: StoreSize = { collections: perCollection.size, records };
  if (limited) size.approximate = true;
  if (path !== '-') {
    const bytes = await stat(path).then(
      (s) => (s.isFile() ? s.size : undefined),
      () => undefined,
    );
    if (bytes !== undefined) size.bytes = bytes;
  }
  const indicators: Indicator[] = empty ? ['empty'] : [];
  return {
    target: sanitizeText(path === '-' ? 'stdin' : path, 500),
    protocol: 'file',
    status,
    detail: sanitizeText(detail, 300),
    ...(status === 'open' ? { size } : {}),
    indicators,
    // Names come from the file: hostile until cleaned (DESIGN.md invariant 4).
    collections: [...perCollection].map(([name, count]) => ({
      name: sanitizeText(name, 200),
      records: count,
    })),
    fields: (classification?.fields ?? []).map((f) => ({
      ...f,
      collection: sanitizeText(f.collection, 200),
      path: sanitizeText(f.path, 200),
    })),
    subjects,
    severity: storeSeverity({ status, subjects, records, classified: true }),
    fingerprint: fingerprint('file', path),
    durationMs: Math.round(performance.now() - started),
  };
}
