import type { FieldContext } from './detector.js';

/**
 * A detector's field words as a set, for whole-word tests on a `FieldContext` (words come from
 * `splitFieldWords`, so `ssid` never matches `ssn`). A few hash lookups per call: cheap enough to
 * run per value.
 */
export class FieldWordSet {
  readonly words: readonly string[];
  private readonly set: ReadonlySet<string>;

  constructor(words: readonly string[]) {
    this.words = words;
    this.set = new Set(words);
  }

  has(word: string): boolean {
    return this.set.has(word);
  }

  /** Any word of the last key is in the set. */
  inKey(field: FieldContext): boolean {
    for (const w of field.keyWords) if (this.set.has(w)) return true;
    return false;
  }

  /** Any word of the whole path is in the set. */
  inPath(field: FieldContext): boolean {
    for (const w of field.pathWords) if (this.set.has(w)) return true;
    return false;
  }
}
