import { categorySensitivity, type Category } from '../core/category.js';
import type { Detector, FieldContext, Scalar } from '../detectors/detector.js';
import { mayMatchField } from '../detectors/may-match-field.js';
import { maskValue } from './mask-value.js';

/** Category ids in a fixed order; the classifier works with their indices (fit in a Uint8). */
export const categoryIds = Object.keys(categorySensitivity) as Category[];
export const categoryIndex = new Map<Category, number>(categoryIds.map((c, i) => [c, i]));

/** The id of a category index (indices only ever come from `categoryIndex`). */
export function categoryAt(index: number): Category {
  const id = categoryIds[index];
  if (id === undefined) throw new RangeError(`no category ${index}`);
  return id;
}

/**
 * Values of a field on which every eligible detector runs. Afterwards only detectors that matched
 * at least once run, which is what makes classification cost about one JSON parse: most fields
 * keep zero or one detector. Every `reprobeEvery`-th value still runs them all, so a category
 * that appears late (a rare email inside free text) is not missed for the rest of the store.
 */
export const warmUpValues = 256;
const reprobeEvery = 64;

/**
 * Evidence rules of a field (tuned on the labelled corpus): a category holds when at least half
 * of the field's non-empty values match it with a mean confidence of at least 0.5. Categories
 * that occur inside free text (an email or phone number in a comment, a key pasted into a note)
 * hold with fewer values: `minEmbedded` matches with a mean confidence of at least 0.6.
 */
const minCoverage = 0.5;
const minMeanConfidence = 0.5;
const minEmbedded = 3;
const minEmbeddedConfidence = 0.6;
const embeddable = new Set<Category>([
  'email',
  'phone',
  'payment_card',
  'national_id',
  'bank_account',
  'jwt',
  'private_key',
  'cloud_credential',
  'oauth_token',
]);

/**
 * Words of a path whose values name people other than the record's own (TAXONOMY.md: "recipients
 * of shares are people too"). Singular `contact`, `member`, `guest` are left out: `contact_email`
 * or `member_id` on a record is that record's own person.
 */
const otherPeopleWords = new Set([
  'share',
  'shared',
  'sharing',
  'shares',
  'recipient',
  'invitee',
  'invited',
  'friend',
  'contacts',
  'members',
  'guests',
  'participant',
  'follower',
  'collaborator',
  'attendee',
  'cc',
  'bcc',
]);

/** One group of detectors of a field, with its warm-up state. */
export class DetectorSet {
  private readonly all: readonly Detector[];
  private readonly allCategories: Uint8Array;
  private readonly matched: Uint8Array;
  private active: Detector[] = [];
  private activeCategories: number[] = [];
  private tried = 0;
  // The last value and its outcome: low-cardinality fields (country, plan, model, firmware)
  // repeat values record after record, and detectors are pure, so the answer is the same.
  private lastValue: Scalar | undefined;
  private lastConfidence = 0;
  private lastCategory = -1;

  constructor(detectors: readonly Detector[]) {
    this.all = detectors;
    this.allCategories = Uint8Array.from(detectors, (d) => categoryIndex.get(d.category) ?? 0);
    this.matched = new Uint8Array(detectors.length);
  }

  get empty(): boolean {
    return this.all.length === 0;
  }

  /**
   * The best match of `value` among the detectors that run now: confidence (0 = none), the
   * category in `out.category`. Ties go to the earlier detector (registry order: specific first).
   */
  run(value: Scalar, field: FieldContext, out: DetectResult): number {
    if (value === this.lastValue) {
      out.category = this.lastCategory;
      return this.lastConfidence;
    }
    const n = this.tried++;
    let best = 0;
    let bestCategory = -1;
    if (n < warmUpValues || n % reprobeEvery === 0) {
      let d = -1;
      for (const detector of this.all) {
        d++;
        const confidence = safeMatch(detector, value, field, out);
        if (confidence <= 0) continue;
        if (this.matched[d] === 0) {
          this.matched[d] = 1;
          // Keeps registry order in `active`, so ties break the same way before and after.
          this.rebuildActive();
        }
        if (confidence > best) {
          best = confidence;
          bestCategory = this.allCategories[d] ?? -1;
        }
      }
    } else {
      let d = -1;
      for (const detector of this.active) {
        d++;
        const confidence = safeMatch(detector, value, field, out);
        if (confidence > best) {
          best = confidence;
          bestCategory = this.activeCategories[d] ?? -1;
        }
      }
    }
    out.category = bestCategory;
    this.lastValue = value;
    this.lastCategory = bestCategory;
    this.lastConfidence = best;
    return best;
  }

  private rebuildActive(): void {
    this.active = [];
    this.activeCategories = [];
    let d = -1;
    for (const detector of this.all) {
      d++;
      if (this.matched[d] === 0) continue;
      this.active.push(detector);
      this.activeCategories.push(this.allCategories[d] ?? -1);
    }
  }
}

/** Where `DetectorSet.run` puts the category of its best match, and errors detectors threw. */
export interface DetectResult {
  category: number;
  detectorErrors: number;
}

function safeMatch(detector: Detector, value: Scalar, field: FieldContext, out: DetectResult): number {
  try {
    const confidence = detector.match(value, field);
    return confidence > 0 ? Math.min(confidence, 1) : 0;
  } catch {
    // A detector bug must not stop a scan; the message could quote the value, so it is dropped.
    out.detectorErrors++;
    return 0;
  }
}

/** Counters of one category in one field. */
export interface CategoryStat {
  readonly category: number;
  /** Values whose best match was this category. */
  values: number;
  confidenceSum: number;
  /** Records where the field holds the category. */
  records: number;
  lastRecord: number;
  /** Subject indices (bit per person) of those records, or of the people the values name. */
  subjects: Uint32Array;
  example: string | undefined;
}

/** A category that holds in a field, by the evidence rules above. */
export interface HeldCategory {
  readonly stat: CategoryStat;
  readonly confidence: number;
}

/**
 * Per (collection, path): the field's context (computed once), which detectors can apply, and
 * what matched. Never keeps a raw value: only counts, subject bits and one masked example.
 */
export class FieldAggregate {
  readonly context: FieldContext;
  /** Detectors that need no person (among them those that tell whether there is one). */
  readonly early: DetectorSet;
  /** `personOnly` detectors, run on records about a person only. */
  readonly late: DetectorSet;
  /** Values of this field name other people (share recipients, invitees). */
  readonly namesOthers: boolean;
  nonEmpty = 0;
  stats: CategoryStat[] = [];
  private lastStat: CategoryStat | undefined;

  constructor(context: FieldContext, detectors: readonly Detector[]) {
    this.context = context;
    const eligible = detectors.filter((d) => mayMatchField(d, context));
    this.early = new DetectorSet(eligible.filter((d) => d.personOnly !== true));
    this.late = new DetectorSet(eligible.filter((d) => d.personOnly === true));
    this.namesOthers = context.pathWords.some((w) => otherPeopleWords.has(w));
  }

  /** Adds one value's best match; `subject` < 0 when it counts for no person. */
  count(category: number, confidence: number, record: number, subject: number, value: Scalar): void {
    let stat = this.lastStat;
    if (stat?.category !== category) {
      stat = undefined;
      for (const s of this.stats) {
        if (s.category === category) {
          stat = s;
          break;
        }
      }
    }
    if (stat === undefined) {
      stat = {
        category,
        values: 0,
        confidenceSum: 0,
        records: 0,
        lastRecord: -1,
        subjects: new Uint32Array(64),
        example: undefined,
      };
      this.stats.push(stat);
    }
    this.lastStat = stat;
    stat.values++;
    stat.confidenceSum += confidence;
    if (stat.lastRecord !== record) {
      stat.lastRecord = record;
      stat.records++;
    }
    stat.example ??= maskValue(categoryAt(category), value);
    if (subject >= 0) {
      const word = subject >>> 5;
      let bits = stat.subjects;
      if (word >= bits.length) {
        const grown = new Uint32Array(Math.max(bits.length * 2, word + 1));
        grown.set(bits);
        stat.subjects = grown;
        bits = grown;
      }
      bits[word] = (bits[word] ?? 0) | (1 << (subject & 31));
    }
  }

  /** The categories this field holds, most confident first. */
  held(): HeldCategory[] {
    const out: HeldCategory[] = [];
    if (this.nonEmpty === 0) return out;
    for (const stat of this.stats) {
      const mean = stat.confidenceSum / stat.values;
      const coverage = Math.min(1, stat.values / this.nonEmpty);
      if (coverage >= minCoverage && mean >= minMeanConfidence) {
        out.push({ stat, confidence: mean * coverage });
      } else if (
        stat.values >= minEmbedded &&
        mean >= minEmbeddedConfidence &&
        embeddable.has(categoryAt(stat.category))
      ) {
        out.push({ stat, confidence: mean * Math.max(coverage, 0.5) });
      }
    }
    out.sort((a, b) => b.confidence - a.confidence);
    return out;
  }
}
