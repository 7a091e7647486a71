import { readFileSync } from 'node:fs';
import type { Category } from '../src/core/category.js';
import type { SubjectCounts } from '../src/core/scan-report.js';

/** How a labelled file is laid out; the same names as the classifier's input formats. */
export type LabelledFormat = 'json' | 'ndjson' | 'csv' | 'tsv' | 'es-bulk' | 'es-search';

/** What one collection of a labelled file holds, field by field. */
export interface CollectionLabels {
  /** Records of the collection, duplicates included. */
  records?: number;
  /**
   * Every field path of the collection (DESIGN.md grammar: `cams[].mac`, CSV column names,
   * `_source` paths) and the categories it holds; an empty list is a labelled negative.
   */
  fields: Record<string, Category[]>;
}

/** Ground truth of one file: one target of `leakwatch classify`. */
export interface FileLabels {
  format: LabelledFormat;
  /**
   * Collections by name. Files other than Elasticsearch exports hold one collection, whatever
   * name the classifier gives it (file name with or without extension).
   */
  collections: Record<string, CollectionLabels>;
  /**
   * Distinct people per category as TAXONOMY.md counts them. Absent for hand-written files, whose
   * few rows make a count a judgement call rather than a measurement: they gate on fields only.
   */
  subjects?: SubjectCounts;
  /** Why a label is what it is, where TAXONOMY.md leaves room. */
  notes?: string[];
}

/** A labels file: files by path relative to the directory holding the labels file. */
export interface CorpusLabels {
  description?: string;
  files: Record<string, FileLabels>;
}

/** Reads a labels file; throws with the path when it is not one. */
export function readCorpusLabels(path: string): CorpusLabels {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<CorpusLabels>;
  if (typeof parsed.files !== 'object') throw new Error(`${path}: not a labels file (no "files")`);
  return parsed as CorpusLabels;
}
