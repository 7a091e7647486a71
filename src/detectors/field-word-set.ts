import type { FieldContext } from './detector.js';

/**
 * A detector's field words as a set, for whole-word tests on a `FieldContext` (words come from
 * `splitFieldWords`, so `ssid` never matches `ssn`). Detectors ask per value, but the answer is a
 * per-field constant: it is remembered per context object (the classifier keeps one per field), so
 * a repeated question costs one identity check or one WeakMap lookup instead of a Set lookup per word.
 */
export class FieldWordSet {
  readonly words: readonly string[];
  private readonly set: ReadonlySet<string>;
  // Per context: bit 0 key answered, bit 1 key answer, bit 2 path answered, bit 3 path answer.
  private readonly answers = new WeakMap<FieldContext, number>();
  private lastField: FieldContext | undefined;
  private lastAnswers = 0;

  constructor(words: readonly string[]) {
    this.words = words;
    this.set = new Set(words);
  }

  has(word: string): boolean {
    return this.set.has(word);
  }

  /** Any word of the last key is in the set. */
  inKey(field: FieldContext): boolean {
    const known = this.answersFor(field);
    if ((known & 1) !== 0) return (known & 2) !== 0;
    let found = false;
    for (const w of field.keyWords) {
      if (this.set.has(w)) {
        found = true;
        break;
      }
    }
    this.remember(field, known | 1 | (found ? 2 : 0));
    return found;
  }

  /** Any word of the whole path is in the set. */
  inPath(field: FieldContext): boolean {
    const known = this.answersFor(field);
    if ((known & 4) !== 0) return (known & 8) !== 0;
    let found = false;
    for (const w of field.pathWords) {
      if (this.set.has(w)) {
        found = true;
        break;
      }
    }
    this.remember(field, known | 4 | (found ? 8 : 0));
    return found;
  }

  private answersFor(field: FieldContext): number {
    if (field === this.lastField) return this.lastAnswers;
    const known = this.answers.get(field) ?? 0;
    this.lastField = field;
    this.lastAnswers = known;
    return known;
  }

  private remember(field: FieldContext, known: number): void {
    this.answers.set(field, known);
    this.lastField = field;
    this.lastAnswers = known;
  }
}
