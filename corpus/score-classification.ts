import { categorySensitivity, type Category } from '../src/core/category.js';
import type { FieldFinding, SubjectCounts } from '../src/core/scan-report.js';
import type { FileLabels } from './corpus-labels.js';

/** What the classifier reported for one labelled file (a `TargetReport`'s relevant part). */
export interface ClassifiedFile {
  /** The key of the file in its labels. */
  file: string;
  labels: FileLabels;
  fields: readonly FieldFinding[];
  subjects: SubjectCounts;
  collections?: readonly { name: string; records?: number }[];
  /** Set when the classifier could not read the file. */
  error?: string;
  /** Wall time of the file's classification. */
  ms?: number;
}

export interface Rates {
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface CategoryScore extends Rates {
  category: Category;
}

/** One (collection, path) whose categories differ from the labels. */
export interface FieldError {
  file: string;
  collection: string;
  path: string;
  expected: Category[];
  got: Category[];
  /** False when the path is not in the labels at all (a path the corpus never has). */
  labelled: boolean;
}

export interface SubjectRow {
  file: string;
  category: Category | 'total';
  expected: number;
  measured: number;
  /** |measured − expected| / expected (0 when both are 0, 1 when only expected is 0). */
  relative: number;
}

export interface EvalScore {
  categories: CategoryScore[];
  micro: Rates;
  /** Mean over categories that occur in the labels or the results. */
  macro: { precision: number; recall: number; f1: number };
  fieldErrors: FieldError[];
  subjects: SubjectRow[];
  /** Collections whose record count differs from the labels (a reader problem, not gated). */
  recordMismatches: { file: string; collection: string; expected: number; measured: number }[];
  fileErrors: { file: string; error: string }[];
  passed: boolean;
  /** Why the gate failed, one line each. */
  failures: string[];
}

export interface ScoreOptions {
  /** Field-level micro F1 the corpus must reach (issue goal: 0.95). */
  minF1: number;
}

const allCategories = Object.keys(categorySensitivity) as Category[];

function rates(tp: number, fp: number, fn: number): Rates {
  const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 1 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { tp, fp, fn, precision, recall, f1 };
}

/**
 * Result collections → labelled collection. A file that is not an Elasticsearch export holds one
 * collection, whatever the classifier names it; an export's collections are its `_index` names.
 */
function labelledCollection(labels: FileLabels, name: string): string {
  const names = Object.keys(labels.collections);
  const [only] = names;
  if (
    names.length === 1 &&
    only !== undefined &&
    labels.format !== 'es-bulk' &&
    labels.format !== 'es-search'
  ) {
    return only;
  }
  return name;
}

/**
 * Field-level precision/recall/F1 per category over (file, collection, path, category) triples,
 * and people per category against the labels' ground truth. Pure: the eval and its tests share it.
 */
export function scoreClassification(files: readonly ClassifiedFile[], options: ScoreOptions): EvalScore {
  const counts = Object.fromEntries(allCategories.map((c) => [c, { tp: 0, fp: 0, fn: 0 }])) as Record<
    Category,
    { tp: number; fp: number; fn: number }
  >;
  const fieldErrors: FieldError[] = [];
  const subjects: SubjectRow[] = [];
  const recordMismatches: EvalScore['recordMismatches'] = [];
  const fileErrors: EvalScore['fileErrors'] = [];

  for (const result of files) {
    const { labels } = result;
    if (result.error !== undefined) fileErrors.push({ file: result.file, error: result.error });
    // (collection, path) → categories reported.
    const got = new Map<string, Set<Category>>();
    const key = (collection: string, path: string): string => `${collection}\u0000${path}`;
    for (const f of result.fields) {
      const k = key(labelledCollection(labels, f.collection), f.path);
      let set = got.get(k);
      if (!set) got.set(k, (set = new Set()));
      for (const c of f.categories) set.add(c);
    }
    const seen = new Set<string>();
    for (const [collection, col] of Object.entries(labels.collections)) {
      for (const [path, expectedList] of Object.entries(col.fields)) {
        const k = key(collection, path);
        seen.add(k);
        const expected = new Set(expectedList);
        const reported = got.get(k) ?? new Set<Category>();
        for (const c of expected) counts[c][reported.has(c) ? 'tp' : 'fn']++;
        for (const c of reported) if (!expected.has(c)) counts[c].fp++;
        const same = expected.size === reported.size && [...expected].every((c) => reported.has(c));
        if (!same) {
          fieldErrors.push({
            file: result.file,
            collection,
            path,
            expected: [...expected].sort(),
            got: [...reported].sort(),
            labelled: true,
          });
        }
      }
    }
    for (const [k, reported] of got) {
      if (seen.has(k) || reported.size === 0) continue;
      const [collection = '', path = ''] = k.split('\u0000');
      for (const c of reported) counts[c].fp++;
      fieldErrors.push({
        file: result.file,
        collection,
        path,
        expected: [],
        got: [...reported].sort(),
        labelled: false,
      });
    }

    for (const [collection, col] of Object.entries(labels.collections)) {
      if (col.records === undefined || result.collections === undefined) continue;
      const measured = result.collections
        .filter((c) => labelledCollection(labels, c.name) === collection)
        .reduce((sum, c) => sum + (c.records ?? 0), 0);
      if (measured !== col.records) {
        recordMismatches.push({ file: result.file, collection, expected: col.records, measured });
      }
    }

    if (labels.subjects) {
      const truth = labels.subjects;
      const row = (category: Category | 'total', expected: number, measured: number): SubjectRow => ({
        file: result.file,
        category,
        expected,
        measured,
        relative: expected === 0 ? (measured === 0 ? 0 : 1) : Math.abs(measured - expected) / expected,
      });
      subjects.push(row('total', truth.total, result.subjects.total));
      const cats = new Set<Category>([
        ...(Object.keys(truth.byCategory) as Category[]),
        ...(Object.keys(result.subjects.byCategory) as Category[]),
      ]);
      for (const c of allCategories) {
        if (cats.has(c)) subjects.push(row(c, truth.byCategory[c] ?? 0, result.subjects.byCategory[c] ?? 0));
      }
    }
  }

  const categories: CategoryScore[] = [];
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const category of allCategories) {
    const c = counts[category];
    tp += c.tp;
    fp += c.fp;
    fn += c.fn;
    if (c.tp + c.fp + c.fn > 0) categories.push({ category, ...rates(c.tp, c.fp, c.fn) });
  }
  const micro = rates(tp, fp, fn);
  const mean = (pick: (s: CategoryScore) => number): number =>
    categories.length === 0 ? 1 : categories.reduce((sum, s) => sum + pick(s), 0) / categories.length;
  const macro = { precision: mean((s) => s.precision), recall: mean((s) => s.recall), f1: mean((s) => s.f1) };

  const failures: string[] = [];
  if (micro.f1 < options.minF1) {
    failures.push(`field-level micro F1 ${micro.f1.toFixed(3)} < ${options.minF1}`);
  }
  const wrongCounts = subjects.filter((s) => s.measured !== s.expected);
  if (wrongCounts.length > 0)
    failures.push(`${wrongCounts.length} person counts differ from the ground truth`);
  for (const e of fileErrors) failures.push(`${e.file}: ${e.error}`);
  return {
    categories,
    micro,
    macro,
    fieldErrors,
    subjects,
    recordMismatches,
    fileErrors,
    passed: failures.length === 0,
    failures,
  };
}
