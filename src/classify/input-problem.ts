/**
 * What went wrong with one part of an input file. Readers report these and carry on; the file's
 * report counts them in its one-line detail. Positions only, never content (DESIGN.md invariant 3).
 */
export interface InputProblem {
  /**
   * `malformed`, `oversized`: the unit was skipped. `truncated`: the file ends inside a unit.
   * `ragged`, `quoting`: a CSV row with another cell count or stray quotes, kept as read.
   * `trailing`: data after the end of a JSON document, ignored.
   */
  kind: 'malformed' | 'oversized' | 'truncated' | 'ragged' | 'quoting' | 'trailing';
  unit: 'line' | 'element' | 'row' | 'document';
  /** 1-based position of the unit (line number, element number, CSV record number). */
  at: number;
}

export type ProblemSink = (problem: InputProblem) => void;
