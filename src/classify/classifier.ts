import type { FieldFinding, SubjectCounts } from '../core/scan-report.js';
import type { RecordSink, RecordTextFormat } from '../connectors/connector.js';

export interface ClassifierOptions {
  /** Secret key of the keyed hashes that count people; never leaves the process. */
  hashKey: Uint8Array;
  /** Records per collection passed to detectors (Infinity: all). */
  limit: number;
  /** Sampling deadline handed to connectors through the sink. */
  signal: AbortSignal;
}

/** What classification found in one store or file. Counts, masked examples, nothing raw. */
export interface Classification {
  fields: FieldFinding[];
  subjects: SubjectCounts;
  /** Records the classifier saw, per collection. */
  recordsSeen: Record<string, number>;
  /** Set when a count is approximate (beyond exact counting, or values skipped), with why. */
  approximate?: string;
}

/**
 * Runs the detectors over records and counts people (TAXONOMY.md). Implements the connectors'
 * `RecordSink`, so a scan passes it straight into a probe.
 */
export class Classifier implements RecordSink {
  readonly limit: number;
  readonly signal: AbortSignal;

  constructor(options: ClassifierOptions) {
    this.limit = options.limit;
    this.signal = options.signal;
  }

  add(_collection: string, _record: unknown): void {
    // Filled in by the classify engine.
  }

  addText(_collection: string, _text: string, _format: RecordTextFormat): void {
    // Filled in by the classify engine.
  }

  result(): Classification {
    return { fields: [], subjects: { total: 0, byCategory: {} }, recordsSeen: {} };
  }
}
