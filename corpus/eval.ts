/**
 * The labelled-corpus evaluation: generates the synthetic dataset, classifies every file of it and
 * of the hand-written corpus (hard negatives, free text) with `classifyFile`, as
 * `leakwatch classify` does, and compares with the labels: field-level precision, recall and F1
 * per category, and people per category against the ground truth.
 *
 *   npm run eval [-- --users N] [--seed S] [--json] [--keep DIR] [--min-f1 0.95]
 *
 * Exit code 1 when the micro F1 is below the goal or any person count is off, so CI can gate on it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { classifyFile } from '../src/classify/classify-file.js';
import { readCorpusLabels, type CorpusLabels } from './corpus-labels.js';
import { generateDataset } from './generate-dataset.js';
import { scoreClassification, type ClassifiedFile, type EvalScore } from './score-classification.js';

export interface EvalOptions {
  users: number;
  seed: number;
  minF1: number;
  /** Keep the generated dataset here instead of a temporary directory. */
  keep?: string;
  /** Also the hand-written corpus (default true). */
  handWritten?: boolean;
}

export interface EvalRun {
  score: EvalScore;
  files: { file: string; records: number; ms: number }[];
  generateMs: number;
  classifyMs: number;
}

const corpusDir = dirname(fileURLToPath(import.meta.url));

async function classifyLabelled(
  dir: string,
  labels: CorpusLabels,
  hashKey: Uint8Array,
): Promise<ClassifiedFile[]> {
  const out: ClassifiedFile[] = [];
  for (const [file, fileLabels] of Object.entries(labels.files)) {
    const report = await classifyFile(join(dir, file), { hashKey, limit: Infinity });
    out.push({
      file,
      labels: fileLabels,
      fields: report.fields,
      subjects: report.subjects,
      collections: report.collections,
      ...(report.status === 'error' ? { error: report.detail } : {}),
      ms: report.durationMs ?? 0,
    });
  }
  return out;
}

/** Generates, classifies and scores; the dataset is removed afterwards unless `keep` names a place. */
export async function runEval(options: EvalOptions): Promise<EvalRun> {
  const dir = options.keep ?? mkdtempSync(join(tmpdir(), 'leakwatch-eval-'));
  try {
    const generated = generateDataset({ users: options.users, seed: options.seed, out: dir });
    // One key per run, as `leakwatch classify` uses one per process.
    const hashKey = randomBytes(32);
    const started = performance.now();
    const results = await classifyLabelled(dir, generated.labels, hashKey);
    if (options.handWritten !== false) {
      results.push(
        ...(await classifyLabelled(corpusDir, readCorpusLabels(join(corpusDir, 'labels.json')), hashKey)),
      );
    }
    const classifyMs = performance.now() - started;
    return {
      score: scoreClassification(results, { minF1: options.minF1 }),
      files: results.map((r) => ({
        file: r.file,
        records: (r.collections ?? []).reduce((sum, c) => sum + (c.records ?? 0), 0),
        ms: r.ms ?? 0,
      })),
      generateMs: generated.ms,
      classifyMs,
    };
  } finally {
    if (options.keep === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

function pct(x: number): string {
  return (x * 100).toFixed(1).padStart(6);
}

function table(rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The human-readable report of one run. */
export function formatEvalRun(run: EvalRun, options: EvalOptions): string {
  const { score } = run;
  const lines: string[] = [];
  lines.push(
    `eval: ${options.users} users (seed ${options.seed}) + hand-written corpus; generated in ${(run.generateMs / 1000).toFixed(1)} s, classified in ${(run.classifyMs / 1000).toFixed(1)} s`,
    '',
  );
  lines.push(
    table([
      ['category', 'fields', 'TP', 'FP', 'FN', 'precision', 'recall', 'F1'],
      ...score.categories.map((c) => [
        c.category,
        String(c.tp + c.fn),
        String(c.tp),
        String(c.fp),
        String(c.fn),
        pct(c.precision),
        pct(c.recall),
        pct(c.f1),
      ]),
      [
        'micro',
        String(score.micro.tp + score.micro.fn),
        String(score.micro.tp),
        String(score.micro.fp),
        String(score.micro.fn),
        pct(score.micro.precision),
        pct(score.micro.recall),
        pct(score.micro.f1),
      ],
      ['macro', '', '', '', '', pct(score.macro.precision), pct(score.macro.recall), pct(score.macro.f1)],
    ]),
  );
  lines.push('', `fields wrong: ${score.fieldErrors.length}`);
  if (score.fieldErrors.length > 0) {
    lines.push(
      table([
        ['file', 'collection', 'path', 'expected', 'got'],
        ...score.fieldErrors.map((e) => [
          e.file,
          e.collection,
          e.path + (e.labelled ? '' : ' (not in labels)'),
          e.expected.join(',') || '-',
          e.got.join(',') || '-',
        ]),
      ]),
    );
  }
  lines.push('', 'people (subjects) per file and category:');
  lines.push(
    table([
      ['file', 'category', 'expected', 'measured', 'error'],
      ...score.subjects.map((s) => [
        s.file,
        s.category,
        String(s.expected),
        String(s.measured),
        s.measured === s.expected
          ? 'exact'
          : `${s.measured - s.expected > 0 ? '+' : ''}${s.measured - s.expected} (${(s.relative * 100).toFixed(2)}%)`,
      ]),
    ]),
  );
  if (score.recordMismatches.length > 0) {
    lines.push('', 'record counts differing from the labels (not gated):');
    for (const m of score.recordMismatches) {
      lines.push(`  ${m.file} ${m.collection}: expected ${m.expected}, read ${m.measured}`);
    }
  }
  lines.push('', score.passed ? 'PASS' : `FAIL: ${score.failures.join('; ')}`);
  return lines.join('\n') + '\n';
}

function parseArgs(argv: readonly string[]): EvalOptions & { json: boolean } {
  const value = (name: string): string | undefined => {
    const at = argv.indexOf(name);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const users = Number(value('--users') ?? '20000');
  const seed = Number(value('--seed') ?? '1');
  const minF1 = Number(value('--min-f1') ?? '0.95');
  if (!Number.isInteger(users) || users < 1) throw new Error('--users must be a positive integer');
  const keep = value('--keep');
  return {
    users,
    seed,
    minF1,
    json: argv.includes('--json'),
    ...(keep !== undefined ? { keep: resolve(keep) } : {}),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const options = parseArgs(process.argv.slice(2));
  const run = await runEval(options);
  process.stdout.write(options.json ? JSON.stringify(run, null, 2) + '\n' : formatEvalRun(run, options));
  process.exitCode = run.score.passed ? 0 : 1;
}
