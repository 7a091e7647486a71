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
 * hold with fewer values: `minEmbedded` matches with a mean confidence of at least 0.6, or any
 * number of matches that validated strongly (`strongEmbeddedConfidence`: an address with a real
 * domain shape, a number libphonenumber accepts): one customer's address in a chat transcript is
 * that customer's data, however few transcripts the store holds.
 */
const minCoverage = 0.5;
const minMeanConfidence = 0.5;
const minEmbedded = 3;
const minEmbeddedConfidence = 0.6;
const strongEmbeddedConfidence = 0.85;
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

// Words of a key that name the client side of a connection (the person's device), not a server.
const clientWords = new Set(['client', 'remote', 'src', 'source', 'visitor', 'caller', 'peer']);

/**
 * A value counts for every category whose detector matches it with at least this confidence
 * (`home.net.gateway` is an IP address and part of a network layout; a support message holds an
 * email and a phone number), not only for its best match.
 */
export const alsoMatchConfidence = 0.5;
/** Categories besides the best one kept per value (more never happen with the registry). */
export const maxExtras = 3;

/**
 * Secrets: one value is one credential, so when several of these match, only the best (the most
 * specific: a vendor format over the generic high-entropy token) counts. A JWT is also an opaque
 * bearer token and an AWS key also high in entropy; reporting both would double every secret.
 */
const exclusiveGroup = new Set<Category>([
  'api_token',
  'oauth_token',
  'jwt',
  'cloud_credential',
  'password_hash',
  'password',
  'private_key',
]);

/** Values cached per field while the cache answers at least this share of lookups. */
const minCacheHitRate = 0.5;
/** Distinct values cached per field; when full the cache starts over. */
const maxCached = 512;
/** Longer strings are not cached: repeated values are short (models, names), and memory stays small. */
const maxCachedLength = 64;

/**
 * The outcome of one value: best category and confidence, and the other confident categories.
 * Immutable once built, so the cache hands the same object out for repeated values.
 */
export interface ValueMatch {
  readonly category: number;
  readonly confidence: number;
  /** Further categories matched with at least `alsoMatchConfidence` (best first). */
  readonly extraCategories: readonly number[];
  readonly extraConfidences: readonly number[];
}

const noMatch: ValueMatch = { category: -1, confidence: 0, extraCategories: [], extraConfidences: [] };
const noExtras: readonly number[] = [];

/**
 * Single-category matches, shared per (category, confidence): detectors answer with a handful of
 * constant confidences, so most values reuse one immutable object instead of allocating three
 * (object and two arrays) per value, which the garbage collector then has to sweep.
 */
const singleMatches = categoryIds.map(() => new Map<number, ValueMatch>());
/** Distinct confidences shared per category; computed confidences beyond it get fresh objects. */
const maxSharedConfidences = 64;

function singleMatch(category: number, confidence: number): ValueMatch {
  const shared = singleMatches[category];
  let match = shared?.get(confidence);
  if (match !== undefined) return match;
  match = { category, confidence, extraCategories: noExtras, extraConfidences: noExtras };
  if (shared !== undefined && shared.size < maxSharedConfidences) shared.set(confidence, match);
  return match;
}

/** One group of detectors of a field, with its warm-up state. */
export class DetectorSet {
  private readonly all: readonly Detector[];
  private readonly allCategories: Uint8Array;
  private readonly matched: Uint8Array;
  private active: Detector[] = [];
  private activeCategories: number[] = [];
  private tried = 0;
  // Per category, the best confidence of the value being matched (scratch, reset per value).
  private readonly scratch = new Float64Array(categoryIds.length);
  private readonly touched: number[] = [];
  // Low-cardinality fields (model, firmware, nickname, plan) repeat values record after record,
  // and detectors are pure, so a repeated value gets the same answer from a bounded cache. It
  // lives in this process only, like the record being classified, and is never reported. Fields
  // whose values are mostly new (emails, tokens) turn it off after the warm-up.
  private cache: Map<Scalar, ValueMatch> | undefined = new Map();
  private lookups = 0;
  private hits = 0;
  private lastValue: Scalar | undefined;
  private lastMatch: ValueMatch = noMatch;

  constructor(detectors: readonly Detector[]) {
    this.all = detectors;
    this.allCategories = Uint8Array.from(detectors, (d) => categoryIndex.get(d.category) ?? 0);
    this.matched = new Uint8Array(detectors.length);
  }

  get empty(): boolean {
    return this.all.length === 0;
  }

  /**
   * What `value` matches among the detectors that run now. Ties go to the earlier detector
   * (registry order: specific first).
   */
  run(value: Scalar, field: FieldContext, out: DetectResult): ValueMatch {
    if (value === this.lastValue) return this.lastMatch;
    const cache = this.cache;
    let result: ValueMatch | undefined;
    if (cache !== undefined) {
      this.lookups++;
      result = cache.get(value);
      if (result !== undefined) this.hits++;
    }
    if (result === undefined) {
      result = this.detect(value, field, out);
      if (cache !== undefined) {
        if (this.lookups >= warmUpValues && this.hits < this.lookups * minCacheHitRate) {
          this.cache = undefined;
        } else if (typeof value !== 'string' || value.length <= maxCachedLength) {
          if (cache.size >= maxCached) cache.clear();
          cache.set(value, result);
        }
      }
    }
    this.lastValue = value;
    this.lastMatch = result;
    return result;
  }

  private detect(value: Scalar, field: FieldContext, out: DetectResult): ValueMatch {
    const n = this.tried++;
    const probeAll = n < warmUpValues || n % reprobeEvery === 0;
    const detectors = probeAll ? this.all : this.active;
    const categories = probeAll ? this.allCategories : this.activeCategories;
    const scratch = this.scratch;
    const touched = this.touched;
    let best = 0;
    let bestCategory = -1;
    let d = -1;
    for (const detector of detectors) {
      d++;
      const confidence = safeMatch(detector, value, field, out);
      if (confidence <= 0) continue;
      if (probeAll && this.matched[d] === 0) {
        this.matched[d] = 1;
        // Keeps registry order in `active`, so ties break the same way before and after.
        this.rebuildActive();
      }
      const category = categories[d] ?? 0;
      if (confidence > best) {
        best = confidence;
        bestCategory = category;
      }
      if (confidence >= alsoMatchConfidence && confidence > (scratch[category] ?? 0)) {
        if (scratch[category] === 0) touched.push(category);
        scratch[category] = confidence;
      }
    }
    if (bestCategory < 0) return noMatch;
    if (touched.length <= 1) {
      if (touched.length === 1) scratch[touched.pop() ?? 0] = 0;
      return singleMatch(bestCategory, best);
    }
    return this.withExtras(bestCategory, best);
  }

  /** The best match plus the other confident categories in `scratch` (which it clears). */
  private withExtras(bestCategory: number, best: number): ValueMatch {
    const scratch = this.scratch;
    const touched = this.touched;
    const exclusive = exclusiveGroup.has(categoryAt(bestCategory));
    const extras: { category: number; confidence: number }[] = [];
    for (const category of touched) {
      const confidence = scratch[category] ?? 0;
      scratch[category] = 0;
      if (category === bestCategory) continue;
      if (exclusive && exclusiveGroup.has(categoryAt(category))) continue;
      extras.push({ category, confidence });
    }
    touched.length = 0;
    extras.sort((a, b) => b.confidence - a.confidence);
    extras.length = Math.min(extras.length, maxExtras);
    return {
      category: bestCategory,
      confidence: best,
      extraCategories: extras.map((e) => e.category),
      extraConfidences: extras.map((e) => e.confidence),
    };
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

/** Errors detectors threw (their messages could quote values, so only counted). */
export interface DetectResult {
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
  /** Values that showed this category (best match or another confident one). */
  values: number;
  confidenceSum: number;
  /** Records where the field holds the category. */
  records: number;
  lastRecord: number;
  /** Subject indices (bit per person) of those records, or of the people the values name. */
  subjects: Uint32Array;
  example: string | undefined;
}

/** A field's counters as plain data (structured-clonable), masked examples only. */
export interface FieldState {
  nonEmpty: number;
  stats: {
    category: number;
    values: number;
    confidenceSum: number;
    records: number;
    subjects: Uint32Array;
    example: string | undefined;
  }[];
}

function setSubject(stat: CategoryStat, subject: number): void {
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
  /**
   * The field holds the address of a client (`client_ip`, `remote_addr`, `src_ip`): an IP address
   * there locates the person behind the record (TAXONOMY.md: ip_address is personal), so the record
   * is about a person even without an identifier. A server's or upstream's address is not.
   */
  readonly namesClient: boolean;
  nonEmpty = 0;
  stats: CategoryStat[] = [];
  private lastStat: CategoryStat | undefined;

  constructor(context: FieldContext, detectors: readonly Detector[]) {
    this.context = context;
    const eligible = detectors.filter((d) => mayMatchField(d, context));
    this.early = new DetectorSet(eligible.filter((d) => d.personOnly !== true));
    this.late = new DetectorSet(eligible.filter((d) => d.personOnly === true));
    this.namesOthers = context.pathWords.some((w) => otherPeopleWords.has(w));
    this.namesClient = context.keyWords.some((w) => clientWords.has(w));
  }

  /** Adds one category one value shows; `subject` < 0 when it counts for no person. */
  count(category: number, confidence: number, record: number, subject: number, value: Scalar): void {
    let stat = this.lastStat;
    if (stat?.category !== category) stat = this.stat(category);
    this.lastStat = stat;
    stat.values++;
    stat.confidenceSum += confidence;
    if (stat.lastRecord !== record) {
      stat.lastRecord = record;
      stat.records++;
    }
    stat.example ??= maskValue(categoryAt(category), value);
    if (subject >= 0) setSubject(stat, subject);
  }

  private stat(category: number): CategoryStat {
    for (const s of this.stats) if (s.category === category) return s;
    const stat: CategoryStat = {
      category,
      values: 0,
      confidenceSum: 0,
      records: 0,
      lastRecord: -1,
      subjects: new Uint32Array(64),
      example: undefined,
    };
    this.stats.push(stat);
    return stat;
  }

  /** The counters of this field for another thread (subject bits in that counter's indices). */
  state(): FieldState {
    return {
      nonEmpty: this.nonEmpty,
      stats: this.stats.map((s) => ({
        category: s.category,
        values: s.values,
        confidenceSum: s.confidenceSum,
        records: s.records,
        subjects: s.subjects,
        example: s.example,
      })),
    };
  }

  /** Adds another classifier's counters of this field; `subjects` maps its indices to ours. */
  merge(other: FieldState, subjects: Uint32Array): void {
    this.nonEmpty += other.nonEmpty;
    for (const o of other.stats) {
      const stat = this.stat(o.category);
      stat.values += o.values;
      stat.confidenceSum += o.confidenceSum;
      stat.records += o.records;
      stat.example ??= o.example;
      const bits = o.subjects;
      for (let w = 0; w < bits.length; w++) {
        let word = bits[w] ?? 0;
        while (word !== 0) {
          const low = word & -word;
          word = (word ^ low) >>> 0;
          const mapped = subjects[(w << 5) + (31 - Math.clz32(low))];
          if (mapped !== undefined) setSubject(stat, mapped);
        }
      }
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
        ((stat.values >= minEmbedded && mean >= minEmbeddedConfidence) || mean >= strongEmbeddedConfidence) &&
        embeddable.has(categoryAt(stat.category))
      ) {
        out.push({ stat, confidence: mean * Math.max(coverage, 0.5) });
      }
    }
    out.sort((a, b) => b.confidence - a.confidence);
    return out;
  }
}
