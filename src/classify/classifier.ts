import { createHash } from 'node:crypto';
import { categorySensitivity, type Category } from '../core/category.js';
import type { FieldFinding, SubjectCounts } from '../core/scan-report.js';
import type { PeopleKeys } from '../core/sealed-text.js';
import type { RecordSink, RecordTextFormat } from '../connectors/connector.js';
import type { Detector, Scalar } from '../detectors/detector.js';
import { detectors as registeredDetectors } from '../detectors/registry.js';
import { fieldContext } from '../detectors/split-field-words.js';
import {
  alsoMatchConfidence,
  categoryAt,
  categoryIds,
  FieldAggregate,
  maxExtras,
  type DetectResult,
  type FieldState,
  type HeldCategory,
  type ValueMatch,
} from './field-aggregate.js';
import {
  defaultFlattenLimits,
  FieldTree,
  flattenRecord,
  FlatValues,
  type FieldNode,
  type FlattenLimits,
} from './flatten-record.js';
import { PeopleLedger, type AffectedPerson } from './people-ledger.js';
import { parseRecordsText } from './read-records.js';
import { identifierKinds, SubjectCounter, type SubjectLog } from './subject-counter.js';

export interface ClassifierOptions {
  /** Secret key of the keyed hashes that count people; never leaves the process. */
  hashKey: Uint8Array;
  /** Records per collection passed to detectors (Infinity: all). */
  limit: number;
  /** Sampling deadline handed to connectors through the sink. */
  signal: AbortSignal;
  /** Detectors to run; the registry's by default (tests inject small lists). */
  detectors?: readonly Detector[];
  /** Bounds of one record's walk; DESIGN.md's defaults otherwise. */
  flattenLimits?: Partial<FlattenLimits>;
  /** Identifier keys counted exactly before counts become upper bounds (default 100 M). */
  maxSubjectKeys?: number;
  /**
   * Keep what `state()` needs for another classifier to `merge` this one exactly (workers that
   * split a file). Costs a log of identifier hashes (~9 bytes per identifier) and one subject
   * index per record instead of one per person.
   */
  mergeable?: boolean;
  /**
   * Also remember who each person is (their identifiers, in memory) so `people()` can list every
   * affected person with the categories of their data: an incident's affected-people run. Not
   * with `mergeable`.
   */
  people?: boolean;
}

/**
 * A classifier's counters as structured-clonable data, for `Classifier.merge` in another thread:
 * counts, subject bits, masked examples and identifier hashes, never a raw value.
 */
export interface ClassifierState {
  collections: {
    name: string;
    taken: number;
    offered: number;
    fields: { steps: (string | null)[]; field: FieldState }[];
  }[];
  // `steps`: the keys from the record's top to the field, null for an array step.
  subjects: SubjectLog;
  records: number;
  truncatedRecords: number;
  oversizedValues: number;
  binaryValues: number;
  detectorErrors: number;
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

/** A match below this does not make a record "about a person". */
const personEvidenceConfidence = 0.5;

/**
 * Categories whose presence (from detectors that are not `personOnly` themselves) makes a record
 * about a person; then `personOnly` detectors count: a user's `weight` is health data, a
 * product's is not, and a root `name` is a person's name only on a person's record.
 */
const identifying = new Set<Category>(['email', 'username', 'user_id', 'phone', 'person_name']);

/** Collections tracked per classifier; a store with more (a Redis of key families) shares one. */
const maxCollections = 10_000;

interface CollectionState {
  readonly tree: FieldTree<FieldAggregate>;
  taken: number;
  offered: number;
}

/** Category index → identifier kind index (`identifierKinds`), or -1. */
const kindOfCategory = Int8Array.from(categoryIds, (c) => (identifierKinds as readonly string[]).indexOf(c));
const ipAddressCategory = categoryIds.indexOf('ip_address');
const personEvidence = Uint8Array.from(categoryIds, (c) => (identifying.has(c) ? 1 : 0));
/** `low` categories name nobody on their own: on records without a person they count no subject. */
const lowSensitivity = Uint8Array.from(categoryIds, (c) => (categorySensitivity[c] === 'low' ? 1 : 0));

/** Any length of key → the 16 bytes SipHash takes, without reusing the key as-is elsewhere. */
function subjectHashKey(key: Uint8Array): Uint8Array {
  return createHash('sha256').update('leakwatch subject hash v1').update(key).digest().subarray(0, 16);
}

/**
 * Runs the detectors over records and counts people (TAXONOMY.md). Implements the connectors'
 * `RecordSink`, so a scan passes it straight into a probe.
 *
 * Per record: flatten into (field, scalar) pairs; run each field's detectors, first those that
 * need no person (among them the identifying ones), then, if the record turned out to be about a person,
 * the `personOnly` ones; resolve the record's person from its strongest identifier (from each
 * value's best match); count each value for its field and person under every category it shows
 * confidently (`alsoMatchConfidence`; rival secret formats excepted). Nothing raw outlives the
 * record, except the bounded per-field cache of repeated values in memory (never reported).
 *
 * People: `subjects.total` is the number of distinct people in records where some held category
 * counts for a person: people named by their identifiers (deduplicated across records and with
 * share recipients), plus one per record without identifiers that holds a category other than
 * the `low` ones (a product catalogue's `device_model` names nobody).
 */
export class Classifier implements RecordSink {
  readonly limit: number;
  readonly signal: AbortSignal;
  private readonly detectors: readonly Detector[];
  private readonly limits: FlattenLimits;
  private readonly counter: SubjectCounter;
  private readonly collections = new Map<string, CollectionState>();
  private readonly flat = new FlatValues<FieldAggregate>();
  /** Per value of the current record: what it matched (`noMatch` objects when nothing). */
  private readonly matches: ValueMatch[] = [];
  private readonly detect: DetectResult = { detectorErrors: 0 };
  private records = 0;
  private truncatedRecords = 0;
  private oversizedValues = 0;
  private binaryValues = 0;
  private readonly ownAt = new Int32Array(identifierKinds.length);
  private readonly ledger: PeopleLedger | undefined;

  constructor(options: ClassifierOptions) {
    this.limit = options.limit;
    this.signal = options.signal;
    this.detectors = options.detectors ?? registeredDetectors;
    this.limits = { ...defaultFlattenLimits, ...options.flattenLimits };
    this.counter = new SubjectCounter({
      hashKey: subjectHashKey(options.hashKey),
      ...(options.maxSubjectKeys !== undefined ? { maxKeys: options.maxSubjectKeys } : {}),
      log: options.mergeable === true,
    });
    if (options.people === true && options.mergeable === true) {
      throw new RangeError('a classifier that lists people cannot be mergeable');
    }
    this.ledger = options.people === true ? new PeopleLedger() : undefined;
  }

  add(collection: string, record: unknown): void {
    const state = this.collectionState(collection);
    state.offered++;
    if (state.taken >= this.limit) return;
    state.taken++;
    const recordNo = this.records++;

    const flat = this.flat;
    flat.reset();
    flattenRecord(state.tree, record, flat);
    if (flat.truncated) this.truncatedRecords++;
    this.oversizedValues += flat.oversized;
    this.binaryValues += flat.binary;
    const n = flat.length;
    if (n === 0) return;
    const nodes = flat.nodes;
    const values = flat.values;
    const matches = this.matches;
    const detect = this.detect;

    // Pass 1: detectors that need no person, and the ones that tell whether there is one.
    let person = false;
    let any = false;
    for (let i = 0; i < n; i++) {
      const node = nodes[i];
      const value = values[i];
      if (node === undefined || value === undefined) continue;
      const field = node.field;
      field.nonEmpty++;
      const match = field.early.empty ? noMatch : field.early.run(value, field.context, detect);
      matches[i] = match;
      if (match.confidence > 0) {
        any = true;
        if (
          match.confidence >= personEvidenceConfidence &&
          (personEvidence[match.category] === 1 ||
            (match.category === ipAddressCategory && field.namesClient))
        ) {
          person = true;
        }
      }
    }
    // Pass 2: on a person's record, what is personal only there (health metrics, gender...).
    if (person) {
      for (let i = 0; i < n; i++) {
        const node = nodes[i];
        const value = values[i];
        if (node === undefined || value === undefined) continue;
        const field = node.field;
        if (field.late.empty) continue;
        const late = field.late.run(value, field.context, detect);
        if (late.confidence <= 0) continue;
        any = true;
        const early = matches[i] ?? noMatch;
        matches[i] = early.confidence > 0 ? combineMatches(early, late) : late;
      }
    }
    if (!any) return;
    this.countRecord(recordNo, n, nodes, values, person);
  }

  addText(collection: string, text: string, format: RecordTextFormat): void {
    for (const { collection: c, record } of parseRecordsText(text, format, collection)) {
      this.add(c, record);
    }
  }

  result(): Classification {
    const counter = this.counter;
    const words = (counter.size + 31) >>> 5;
    const scratch = new Uint32Array(words);
    const union = new Uint32Array(words);
    const byCategoryBits = new Map<number, Uint32Array>();
    const fields: FieldFinding[] = [];
    const recordsSeen: Record<string, number> = {};

    for (const [name, state] of this.collections) {
      recordsSeen[name] = state.taken;
      forEachNode(state.tree.root, (node) => {
        const held = node.field.held();
        if (held.length === 0) return;
        fields.push(this.finding(name, node, held, scratch));
        for (const { stat } of held) {
          let bits = byCategoryBits.get(stat.category);
          if (bits === undefined) {
            bits = new Uint32Array(words);
            byCategoryBits.set(stat.category, bits);
          }
          orInto(bits, stat.subjects);
          orInto(union, stat.subjects);
        }
      });
    }

    const byCategory: Partial<Record<Category, number>> = {};
    for (const [category, bits] of [...byCategoryBits].sort((a, b) => a[0] - b[0])) {
      const count = counter.countDistinct(bits, scratch);
      if (count > 0) byCategory[categoryAt(category)] = count;
    }
    const classification: Classification = {
      fields,
      subjects: { total: counter.countDistinct(union, scratch), byCategory },
      recordsSeen,
    };
    const approximate = this.approximation();
    if (approximate !== undefined) classification.approximate = approximate;
    return classification;
  }

  /**
   * Every affected person: per person the categories of THEIR data (from the fields that hold a
   * category, as in `result()`), keyed hashes, and their contact and identifier sealed with
   * `keys`. Needs the `people` option.
   */
  people(keys: PeopleKeys): AffectedPerson[] {
    const ledger = this.ledger;
    if (ledger === undefined) throw new RangeError('this classifier was not asked to list people');
    const counter = this.counter;
    // Per person (union-find root), a bitmask of category indices in two 32-bit words.
    const masks = new Map<number, [number, number]>();
    for (const state of this.collections.values()) {
      forEachNode(state.tree.root, (node) => {
        for (const { stat } of node.field.held()) {
          const word = stat.category >>> 5;
          const bit = 1 << (stat.category & 31);
          const bits = stat.subjects;
          for (let w = 0; w < bits.length; w++) {
            let x = bits[w] ?? 0;
            while (x !== 0) {
              const low = x & -x;
              const s = (w << 5) + (31 - Math.clz32(low));
              x ^= low;
              const root = counter.find(s);
              let mask = masks.get(root);
              if (mask === undefined) {
                mask = [0, 0];
                masks.set(root, mask);
              }
              mask[word] = (mask[word] ?? 0) | bit;
            }
          }
        }
      });
    }
    return ledger.people(
      counter.size,
      (s) => counter.find(s),
      (root) => {
        const mask = masks.get(root);
        if (mask === undefined) return [];
        const categories: Category[] = [];
        for (let c = 0; c < categoryIds.length; c++) {
          if (((mask[c >>> 5] ?? 0) & (1 << (c & 31))) !== 0) categories.push(categoryAt(c));
        }
        return categories;
      },
      keys,
    );
  }

  /** This classifier's counters for `merge` elsewhere; needs the `mergeable` option. */
  state(): ClassifierState {
    const collections: ClassifierState['collections'] = [];
    for (const [name, state] of this.collections) {
      const fields: ClassifierState['collections'][number]['fields'] = [];
      forEachStep(state.tree.root, [], (node, steps) => {
        const field = node.field.state();
        if (field.nonEmpty > 0) fields.push({ steps, field });
      });
      collections.push({ name, taken: state.taken, offered: state.offered, fields });
    }
    return {
      collections,
      subjects: this.counter.state(),
      records: this.records,
      truncatedRecords: this.truncatedRecords,
      oversizedValues: this.oversizedValues,
      binaryValues: this.binaryValues,
      detectorErrors: this.detect.detectorErrors,
    };
  }

  /**
   * Adds the records another classifier (same hash key) saw, as if they had come after this one's:
   * its people are resolved again here from their identifier hashes, in its order, so people in
   * both count once and aliases join exactly as one classifier would have joined them.
   */
  merge(other: ClassifierState): void {
    const subjects = this.counter.replay(other.subjects);
    for (const c of other.collections) {
      const state = this.collectionState(c.name);
      state.taken += c.taken;
      state.offered += c.offered;
      for (const { steps, field } of c.fields) {
        let node: FieldNode<FieldAggregate> | undefined = state.tree.root;
        for (const step of steps) {
          if (node === undefined) break;
          node = step === null ? state.tree.itemsOf(node) : state.tree.child(node, step);
        }
        if (node === undefined) this.truncatedRecords++;
        else node.field.merge(field, subjects);
      }
    }
    this.records += other.records;
    this.truncatedRecords += other.truncatedRecords;
    this.oversizedValues += other.oversizedValues;
    this.binaryValues += other.binaryValues;
    this.detect.detectorErrors += other.detectorErrors;
  }

  private collectionState(collection: string): CollectionState {
    let state = this.collections.get(collection);
    if (state !== undefined) return state;
    const name = this.collections.size >= maxCollections ? '*' : collection;
    state = this.collections.get(name);
    if (state === undefined) {
      state = {
        tree: new FieldTree<FieldAggregate>(
          name,
          (node) => new FieldAggregate(fieldContext(node.path), this.detectors),
          this.limits,
        ),
        taken: 0,
        offered: 0,
      };
      this.collections.set(name, state);
    }
    return state;
  }

  /**
   * Resolves the record's person (TAXONOMY.md: strongest identifier — user_id, email, username,
   * phone — from the shortest path outside arrays and outside fields that name other people) and
   * counts every matched value for its field and person.
   */
  private countRecord(
    recordNo: number,
    n: number,
    nodes: readonly FieldNode<FieldAggregate>[],
    values: readonly (string | number | boolean)[],
    person: boolean,
  ): void {
    const matches = this.matches;
    const ownAt = this.ownAt;
    ownAt.fill(-1);
    let own = false;
    let inArrayAt = -1;
    let inArrayKind: number = identifierKinds.length;
    for (let i = 0; i < n; i++) {
      const match = matches[i] ?? noMatch;
      const category = match.category;
      if (category < 0 || match.confidence < personEvidenceConfidence) continue;
      const kind = kindOfCategory[category] ?? -1;
      const node = nodes[i];
      if (kind < 0 || node === undefined || !isBareIdentifier(kind, values[i])) continue;
      if (node.field.namesOthers) continue;
      if (node.inArray) {
        // Only if the record has no identifier outside arrays (`{"emails": ["a@x", "b@y"]}`).
        if (kind < inArrayKind) {
          inArrayKind = kind;
          inArrayAt = i;
        }
        continue;
      }
      const at = ownAt[kind] ?? -1;
      if (at < 0 || node.depth < (nodes[at]?.depth ?? 0)) ownAt[kind] = i;
      own = true;
    }
    if (!own && inArrayAt >= 0) {
      ownAt[inArrayKind] = inArrayAt;
      own = true;
    }

    const counter = this.counter;
    let subject = -1;
    if (own) {
      counter.beginRecord();
      for (let k = 0; k < ownAt.length; k++) {
        const at = ownAt[k] ?? -1;
        const value = values[at];
        if (at >= 0 && value !== undefined) counter.addIdentifier(k, value);
      }
      subject = counter.resolve();
      const ledger = this.ledger;
      if (ledger !== undefined) {
        for (let k = 0; k < ownAt.length; k++) {
          const at = ownAt[k] ?? -1;
          const value = values[at];
          if (at >= 0 && value !== undefined) ledger.identify(subject, k, value);
        }
      }
    }

    for (let i = 0; i < n; i++) {
      const match = matches[i] ?? noMatch;
      const category = match.category;
      if (category < 0) continue;
      const node = nodes[i];
      const value = values[i];
      if (node === undefined || value === undefined) continue;
      const field = node.field;
      const confidence = match.confidence;
      const kind = kindOfCategory[category] ?? -1;
      const extras = match.extraCategories;
      if (
        kind >= 0 &&
        ownAt[kind] !== i &&
        (field.namesOthers || node.inArray) &&
        confidence >= personEvidenceConfidence &&
        isBareIdentifier(kind, value)
      ) {
        // Someone else this record names: a person of their own (share recipients), who is also
        // the person of whatever else the value shows.
        const other = counter.addOther(kind, value);
        this.ledger?.identify(other, kind, value);
        field.count(category, confidence, recordNo, other, value);
        for (let e = 0; e < extras.length; e++) {
          field.count(extras[e] ?? 0, match.extraConfidences[e] ?? 0, recordNo, other, value);
        }
        continue;
      }
      subject = this.countFor(field, category, confidence, recordNo, subject, person, value);
      for (let e = 0; e < extras.length; e++) {
        const extra = extras[e] ?? 0;
        const extraConfidence = match.extraConfidences[e] ?? 0;
        subject = this.countFor(field, extra, extraConfidence, recordNo, subject, person, value);
      }
    }
    for (let i = 0; i < n; i++) matches[i] = noMatch;
  }

  /**
   * Counts one category of a value for the record's own person (made on first need); `low`
   * categories of records about nobody count for no one. Returns the record's subject.
   */
  private countFor(
    field: FieldAggregate,
    category: number,
    confidence: number,
    recordNo: number,
    subject: number,
    person: boolean,
    value: Scalar,
  ): number {
    const counts = person || lowSensitivity[category] === 0;
    let s = subject;
    if (s < 0 && counts) s = this.counter.newSubject();
    field.count(category, confidence, recordNo, counts ? s : -1, value);
    return s;
  }

  private finding(
    collection: string,
    node: FieldNode<FieldAggregate>,
    held: readonly HeldCategory[],
    scratch: Uint32Array,
  ): FieldFinding {
    const top = held[0];
    if (top === undefined) throw new RangeError('a finding needs a held category');
    let records = 0;
    let bits = top.stat.subjects;
    if (held.length > 1) {
      bits = new Uint32Array(scratch.length);
      for (const { stat } of held) orInto(bits, stat.subjects);
    }
    for (const { stat } of held) records = Math.max(records, stat.records);
    const finding: FieldFinding = {
      collection,
      path: node.path,
      categories: held.map((h) => categoryAt(h.stat.category)),
      records,
      subjects: this.counter.countDistinct(bits, scratch),
      confidence: Math.round(top.confidence * 100) / 100,
    };
    if (top.stat.example !== undefined) finding.example = top.stat.example;
    return finding;
  }

  private approximation(): string | undefined {
    const notes: string[] = [];
    const subjects = this.counter.approximation();
    if (subjects !== undefined) notes.push(subjects);
    const l = this.limits;
    if (this.truncatedRecords > 0) {
      notes.push(
        `${this.truncatedRecords} record(s) only partly classified (nesting over ${l.maxDepth} levels, over ${l.maxValues} values, arrays over ${l.maxArrayItems} items or over ${l.maxNodes} field paths)`,
      );
    }
    if (this.oversizedValues > 0) {
      notes.push(`${this.oversizedValues} value(s) over ${l.maxStringLength} characters not classified`);
    }
    if (this.binaryValues > 0) notes.push(`${this.binaryValues} binary value(s) not classified`);
    if (this.detect.detectorErrors > 0) {
      notes.push(`${this.detect.detectorErrors} detector error(s); those values counted as no match`);
    }
    return notes.length > 0 ? notes.join('; ') : undefined;
  }
}

const phoneKind = identifierKinds.indexOf('phone');

const noMatch: ValueMatch = { category: -1, confidence: 0, extraCategories: [], extraConfidences: [] };

/** One value's early and late matches as one: the best of both, the others as extras. */
function combineMatches(a: ValueMatch, b: ValueMatch): ValueMatch {
  const all: { category: number; confidence: number }[] = [];
  const add = (category: number, confidence: number): void => {
    const seen = all.find((m) => m.category === category);
    if (seen === undefined) all.push({ category, confidence });
    else seen.confidence = Math.max(seen.confidence, confidence);
  };
  for (const m of [a, b]) {
    add(m.category, m.confidence);
    m.extraCategories.forEach((c, e) => {
      add(c, m.extraConfidences[e] ?? 0);
    });
  }
  // Ties keep the early match first, as before late detectors existed.
  all.sort((x, y) => y.confidence - x.confidence);
  const [best, ...rest] = all;
  const extras = rest.filter((m) => m.confidence >= alsoMatchConfidence).slice(0, maxExtras);
  return {
    category: best?.category ?? -1,
    confidence: best?.confidence ?? 0,
    extraCategories: extras.map((m) => m.category),
    extraConfidences: extras.map((m) => m.confidence),
  };
}

/**
 * Whether a matched value is the identifier itself rather than text around one (an email inside a
 * comment): only then it names a person. Phones may hold spaces and punctuation.
 */
function isBareIdentifier(kind: number, value: string | number | boolean | undefined): boolean {
  if (typeof value !== 'string') return value !== undefined;
  if (value.length > 320) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (kind === phoneKind) {
      // digits, space, + ( ) - .
      if (!((c >= 48 && c <= 57) || c === 32 || c === 43 || c === 40 || c === 41 || c === 45 || c === 46)) {
        return false;
      }
    } else if (c <= 32) {
      return false;
    }
  }
  return true;
}

function orInto(into: Uint32Array, bits: Uint32Array): void {
  const n = Math.min(into.length, bits.length);
  for (let i = 0; i < n; i++) into[i] = (into[i] ?? 0) | (bits[i] ?? 0);
}

/** Visits every node that has a field with the keys leading to it (null for array steps). */
function forEachStep<T>(
  root: FieldNode<T>,
  steps: (string | null)[],
  visit: (node: FieldNode<T>, steps: (string | null)[]) => void,
): void {
  const stack: [FieldNode<T>, (string | null)[]][] = [[root, steps]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [node, at] = top;
    if (node.hasField) visit(node, at);
    if (node.items !== undefined) stack.push([node.items, [...at, null]]);
    if (node.children !== undefined)
      for (const [key, child] of node.children) stack.push([child, [...at, key]]);
  }
}

/** Visits every node of a path tree, depth first, without recursion (trees can be wide and deep). */
function forEachNode<T>(root: FieldNode<T>, visit: (node: FieldNode<T>) => void): void {
  const stack: FieldNode<T>[] = [root];
  const order: FieldNode<T>[] = [];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    order.push(node);
    if (node.items !== undefined) stack.push(node.items);
    if (node.children !== undefined) stack.push(...[...node.children.values()].reverse());
  }
  for (const node of order) visit(node);
}
