/**
 * Benchmark (not a test): classification speed and quality on the synthetic account documents of
 * corpus/generate-dataset.ts, against baselines measured in the same run.
 *
 *   npm run bench:classify -- [--users 2400000] [--seed 1] [--or-records 500] [--or-text-records 2000]
 *
 * On the same NDJSON lines (accounts.ndjson + profiles.ndjson, one document per account, ~2%
 * loaded twice), read with the same line reader:
 *   1. baseline: a bare JSON.parse of every line;
 *   2. leakwatch: JSON.parse + Classifier.add of every line (full, not sampled), one thread;
 *   3. leakwatch end to end: classifyFile on each file, as `leakwatch classify` runs;
 *   4. @openredaction/openredaction on the first records only (it is orders of magnitude slower):
 *      its JSON processor (which reports field paths, so its F1 is comparable) and its plain-text
 *      detector over each line; times extrapolated to all lines, and labelled so.
 * Field-level F1 of both tools against the generator's labels, on the same records.
 *   5. leakwatch on 2 worker threads (`--workers N`): each worker reads and classifies its own
 *      half of each file's bytes (cut at line ends) with a mergeable Classifier; the main thread
 *      merges their states (people resolved again from identifier hashes, so counts are exact).
 *
 * The dataset is cached in the OS temp directory by users and seed. Results: bench/results/classify.json.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { createJsonProcessor, OpenRedaction } from '@openredaction/openredaction';
import { readCorpusLabels, type CorpusLabels, type FileLabels } from '../corpus/corpus-labels.js';
import { generateDataset } from '../corpus/generate-dataset.js';
import { scoreClassification, type ClassifiedFile } from '../corpus/score-classification.js';
import { Classifier, type ClassifierState } from '../src/classify/classifier.js';
import { classifyFile } from '../src/classify/classify-file.js';
import type { Category } from '../src/core/category.js';
import type { FieldFinding, TargetReport } from '../src/core/scan-report.js';

const argv = process.argv.slice(2);
function arg(name: string, fallback: number): number {
  const at = argv.indexOf(name);
  const value = at >= 0 ? Number(argv[at + 1]) : fallback;
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number`);
  return value;
}
const users = arg('--users', 2_400_000);
const seed = arg('--seed', 1);
const orRecords = arg('--or-records', 500);
const orTextRecords = arg('--or-text-records', 2000);
const workers = arg('--workers', 2);
const files = ['accounts.ndjson', 'profiles.ndjson'] as const;

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

/**
 * Calls `onLine` with every line of the file (UTF-8), reading 8 MB at a time; with `from`/`to`,
 * only the lines that start at a file offset in [from, to), so that ranges split a file exactly.
 */
function forEachLine(path: string, onLine: (line: string) => void, from = 0, to = Infinity): void {
  const fd = openSync(path, 'r');
  let buffer = Buffer.allocUnsafe(8 << 20);
  let base = from; // file offset of buffer[0]
  let start = 0;
  let end = 0;
  let skip = false;
  try {
    if (from > 0) {
      // A line that began before `from` belongs to the range before.
      const before = Buffer.allocUnsafe(1);
      readSync(fd, before, 0, 1, from - 1);
      skip = before[0] !== 10;
    }
    for (;;) {
      if (end === buffer.length) {
        if (start === 0) buffer = Buffer.concat([buffer, Buffer.allocUnsafe(buffer.length)]);
        else {
          buffer.copy(buffer, 0, start, end);
          end -= start;
          base += start;
          start = 0;
        }
      }
      if (base + start >= to) return;
      const read = readSync(fd, buffer, end, buffer.length - end, base + end);
      if (read === 0) break;
      end += read;
      let nl = buffer.indexOf(10, start);
      while (nl !== -1 && nl < end) {
        if (base + start >= to) return;
        if (skip) skip = false;
        else if (nl > start) onLine(buffer.toString('utf8', start, nl));
        start = nl + 1;
        nl = buffer.indexOf(10, start);
      }
    }
    if (end > start && !skip && base + start < to) onLine(buffer.toString('utf8', start, end));
  } finally {
    closeSync(fd);
  }
}

function dataset(): { dir: string; labels: CorpusLabels } {
  const dir = join(tmpdir(), `leakwatch-bench-classify-${users}-${seed}`);
  const labelsPath = join(dir, 'labels.json');
  if (existsSync(labelsPath)) {
    log(`reusing ${dir}`);
    return { dir, labels: readCorpusLabels(labelsPath) };
  }
  log(`generating ${users} users into ${dir}`);
  const summary = generateDataset({ users, seed, out: dir, files });
  log(`generated ${(summary.bytes / 1e6).toFixed(0)} MB in ${(summary.ms / 1000).toFixed(1)} s`);
  return { dir, labels: summary.labels };
}

function collectionOf(file: string): string {
  return file.replace(/\.ndjson$/, '');
}

/** Leaf paths of a record in DESIGN.md's grammar (`cams[].mac`), null and empty values left out. */
function addPaths(value: unknown, prefix: string, out: Set<string>): void {
  if (value === null || value === undefined || value === '') return;
  if (Array.isArray(value)) {
    for (const item of value) addPaths(item, `${prefix}[]`, out);
  } else if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) addPaths(v, prefix === '' ? k : `${prefix}.${k}`, out);
  } else out.add(prefix);
}

/**
 * Labels without people, and only of the paths the subset holds: a field of 1% of the accounts
 * may be absent from the first few hundred, and neither tool can be asked to find it there.
 */
function subsetLabels(labels: FileLabels, present: ReadonlySet<string>): FileLabels {
  const collections: FileLabels['collections'] = {};
  for (const [name, col] of Object.entries(labels.collections)) {
    collections[name] = {
      fields: Object.fromEntries(Object.entries(col.fields).filter(([path]) => present.has(path))),
    };
  }
  return { format: labels.format, collections };
}

// OpenRedaction entity types → TAXONOMY.md categories, where one corresponds. Types without a
// counterpart (CAMPAIGN_CODE, APEX_PLAYER_ID...) are ignored: neither hits nor false positives.
function orCategory(type: string): Category | undefined {
  if (type === 'EMAIL') return 'email';
  if (type.startsWith('PHONE')) return 'phone';
  if (type === 'NAME') return 'person_name';
  if (type.endsWith('USERNAME')) return 'username';
  if (type === 'IPV4' || type === 'IPV6' || type === 'IP_ADDRESS') return 'ip_address';
  if (type.startsWith('MAC')) return 'mac_address';
  if (type === 'CREDIT_CARD') return 'payment_card';
  if (type === 'IBAN') return 'bank_account';
  if (type === 'SSN' || type.endsWith('NATIONAL_ID')) return 'national_id';
  if (type === 'DATE_OF_BIRTH' || type === 'DOB') return 'date_of_birth';
  if (type === 'JWT' || type === 'JWT_TOKEN') return 'jwt';
  if (
    type.startsWith('AWS') ||
    type.startsWith('STRIPE') ||
    type.startsWith('SLACK') ||
    type.startsWith('GITHUB')
  ) {
    return 'cloud_credential';
  }
  if (type === 'API_KEY' || type === 'BEARER_TOKEN') return 'api_token';
  return undefined;
}

function mb(bytes: number): number {
  return bytes / 1e6;
}

interface WorkerJob {
  hashKey: Uint8Array;
  parts: { path: string; collection: string; from: number; to: number }[];
}

/** Worker thread: classifies its byte ranges and sends the classifier's state back. */
function runWorker(job: WorkerJob): void {
  const started = performance.now();
  const classifier = new Classifier({
    hashKey: job.hashKey,
    limit: Infinity,
    signal: new AbortController().signal,
    mergeable: true,
  });
  for (const part of job.parts) {
    forEachLine(
      part.path,
      (line) => {
        classifier.add(part.collection, JSON.parse(line));
      },
      part.from,
      part.to,
    );
  }
  const state = classifier.state();
  log(`worker: classified in ${((performance.now() - started) / 1000).toFixed(2)} s`);
  parentPort?.postMessage(state);
}

/** Classification on `n` worker threads, merged into one result in this thread. */
async function classifyOnWorkers(
  paths: string[],
  hashKey: Uint8Array,
  n: number,
): Promise<{ classifier: Classifier; mergeMs: number }> {
  const jobs: WorkerJob[] = Array.from({ length: n }, () => ({ hashKey, parts: [] }));
  paths.forEach((path, i) => {
    const size = statSync(path).size;
    for (let w = 0; w < n; w++) {
      jobs[w]!.parts.push({
        path,
        collection: collectionOf(files[i]!),
        from: Math.floor((size * w) / n),
        to: w === n - 1 ? Infinity : Math.floor((size * (w + 1)) / n),
      });
    }
  });
  const states = await Promise.all(
    jobs.map(
      (job) =>
        new Promise<ClassifierState>((resolve, reject) => {
          // Node does not apply the main thread's TypeScript loader to a worker's entry file, so
          // the worker registers tsx itself, then loads this file.
          const source = `(async () => {
            const { register } = await import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))});
            register();
            await import(${JSON.stringify(import.meta.url)});
          })();`;
          const worker = new Worker(source, { eval: true, workerData: job });
          worker.once('message', (state: ClassifierState) => {
            resolve(state);
            void worker.terminate();
          });
          worker.once('error', reject);
        }),
    ),
  );
  const t = performance.now();
  const classifier = new Classifier({ hashKey, limit: Infinity, signal: new AbortController().signal });
  for (const state of states) classifier.merge(state);
  return { classifier, mergeMs: performance.now() - t };
}

function main(): Promise<void> | void {
  const { dir, labels } = dataset();
  const paths = files.map((f) => join(dir, f));
  const bytes = paths.reduce((sum, p) => sum + statSync(p).size, 0);

  // 1. Baseline: bare JSON.parse of every line.
  let lines = 0;
  let sink = 0;
  let t = performance.now();
  for (const p of paths) {
    forEachLine(p, (line) => {
      // Keep the result observable so the parse cannot be optimised away.
      const doc = JSON.parse(line) as unknown;
      sink += typeof doc === 'object' ? 1 : 0;
      lines++;
    });
  }
  const parseMs = performance.now() - t;
  log(`JSON.parse: ${lines} lines in ${(parseMs / 1000).toFixed(1)} s`);

  // 2. JSON.parse + classification of every record, same reader, one thread.
  const hashKey = randomBytes(32);
  const classifier = new Classifier({ hashKey, limit: Infinity, signal: new AbortController().signal });
  t = performance.now();
  for (const [i, p] of paths.entries()) {
    const collection = collectionOf(files[i]!);
    forEachLine(p, (line) => {
      classifier.add(collection, JSON.parse(line));
    });
  }
  const classification = classifier.result();
  const classifyMs = performance.now() - t;
  log(`classify: ${(classifyMs / 1000).toFixed(1)} s, ${classification.subjects.total} people`);

  return (async () => {
    // 5. The same on worker threads, merged (reported after the single-thread figures).
    t = performance.now();
    const parallel = await classifyOnWorkers(paths, hashKey, workers);
    const parallelResult = parallel.classifier.result();
    const parallelMs = performance.now() - t;
    const parallelSame =
      JSON.stringify(parallelResult.subjects) === JSON.stringify(classification.subjects) &&
      parallelResult.fields.length === classification.fields.length;
    log(
      `classify on ${workers} workers: ${(parallelMs / 1000).toFixed(1)} s (merge ${(parallel.mergeMs / 1000).toFixed(1)} s), ${parallelResult.subjects.total} people`,
    );

    // 3. End to end, as `leakwatch classify FILE...` does (its own reader and per-file targets).
    t = performance.now();
    const reports: TargetReport[] = [];
    for (const p of paths) reports.push(await classifyFile(p, { hashKey, limit: Infinity }));
    const e2eMs = performance.now() - t;
    log(`classifyFile: ${(e2eMs / 1000).toFixed(1)} s`);
    const fullScore = scoreClassification(
      files.map((f, i) => ({
        file: f,
        labels: labels.files[f]!,
        fields: reports[i]!.fields,
        subjects: reports[i]!.subjects,
        collections: reports[i]!.collections,
      })),
      { minF1: 0.95 },
    );

    // 4. Side by side on the first records of each file.
    const subset = files.map((f, i) => {
      const out: string[] = [];
      const cap = Math.ceil(Math.max(orRecords, orTextRecords) / files.length);
      try {
        forEachLine(paths[i]!, (line) => {
          out.push(line);
          if (out.length >= cap) throw new RangeError('enough');
        });
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
      }
      return { file: f, lines: out };
    });
    const perFile = Math.ceil(orRecords / files.length);
    const perFileText = Math.ceil(orTextRecords / files.length);
    const subsetLabelsOf = new Map<string, FileLabels>();
    for (const { file, lines: ls } of subset) {
      const present = new Set<string>();
      for (const line of ls.slice(0, perFile)) addPaths(JSON.parse(line), '', present);
      subsetLabelsOf.set(file, subsetLabels(labels.files[file]!, present));
    }

    const shield = new OpenRedaction();
    const json = createJsonProcessor();
    const orFields: ClassifiedFile[] = [];
    let orRecordsDone = 0;
    let orBytes = 0;
    t = performance.now();
    for (const { file, lines: ls } of subset) {
      const byPath = new Map<string, Set<Category>>();
      for (const line of ls.slice(0, perFile)) {
        orBytes += Buffer.byteLength(line) + 1;
        orRecordsDone++;
        const found = json.detect(JSON.parse(line), shield);
        for (const [path, detections] of Object.entries(found.matchesByPath)) {
          const normal = path.replace(/\[\d+\]/g, '[]');
          for (const d of detections) {
            const c = orCategory(d.type);
            if (c === undefined) continue;
            let set = byPath.get(normal);
            if (!set) byPath.set(normal, (set = new Set()));
            set.add(c);
          }
        }
      }
      orFields.push({
        file,
        labels: subsetLabelsOf.get(file)!,
        fields: [...byPath].map(([path, cats]) => ({
          collection: collectionOf(file),
          path,
          categories: [...cats],
          records: 0,
          subjects: 0,
          confidence: 1,
        })),
        subjects: { total: 0, byCategory: {} },
      });
    }
    const orJsonMs = performance.now() - t;
    const orScore = scoreClassification(orFields, { minF1: 0.95 });
    log(`openredaction JSON processor: ${orRecordsDone} records in ${(orJsonMs / 1000).toFixed(1)} s`);

    let orTextDone = 0;
    let orTextBytes = 0;
    t = performance.now();
    for (const { lines: ls } of subset) {
      for (const line of ls.slice(0, perFileText)) {
        shield.detect(line);
        orTextDone++;
        orTextBytes += Buffer.byteLength(line) + 1;
      }
    }
    const orTextMs = performance.now() - t;
    log(`openredaction text: ${orTextDone} records in ${(orTextMs / 1000).toFixed(1)} s`);

    // Leakwatch on exactly the records OpenRedaction's JSON processor saw.
    const small = new Classifier({ hashKey, limit: Infinity, signal: new AbortController().signal });
    let smallRecords = 0;
    t = performance.now();
    for (const { file, lines: ls } of subset) {
      for (const line of ls.slice(0, perFile)) {
        small.add(collectionOf(file), JSON.parse(line));
        smallRecords++;
      }
    }
    const smallResult = small.result();
    const smallMs = performance.now() - t;
    const byCollection = (fields: FieldFinding[], c: string): FieldFinding[] =>
      fields.filter((f) => f.collection === c);
    const lwSubsetScore = scoreClassification(
      files.map((f) => ({
        file: f,
        labels: subsetLabelsOf.get(f)!,
        fields: byCollection(smallResult.fields, collectionOf(f)),
        subjects: { total: 0, byCategory: {} },
      })),
      { minF1: 0.95 },
    );

    const lwRate = lines / (classifyMs / 1000);
    const orJsonRate = orRecordsDone / (orJsonMs / 1000);
    const orTextRate = orTextDone / (orTextMs / 1000);
    const results = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: availableParallelism(),
      users,
      seed,
      input: { files: [...files], lines, mb: mb(bytes) },
      jsonParse: {
        seconds: parseMs / 1000,
        recordsPerSecond: lines / (parseMs / 1000),
        mbPerSecond: mb(bytes) / (parseMs / 1000),
      },
      leakwatch: {
        threads: 1,
        seconds: classifyMs / 1000,
        recordsPerSecond: lwRate,
        mbPerSecond: mb(bytes) / (classifyMs / 1000),
        ratioToJsonParse: classifyMs / parseMs,
        people: classification.subjects.total,
        workers: {
          threads: workers,
          seconds: parallelMs / 1000,
          mergeSeconds: parallel.mergeMs / 1000,
          recordsPerSecond: lines / (parallelMs / 1000),
          mbPerSecond: mb(bytes) / (parallelMs / 1000),
          ratioToJsonParse: parallelMs / parseMs,
          sameAsOneThread: parallelSame,
          secondsFor2400000Users: (parallelMs / 1000) * (2_400_000 / users),
        },
        endToEnd: { seconds: e2eMs / 1000, ratioToJsonParse: e2eMs / parseMs },
        f1Full: fullScore.micro.f1,
        f1Subset: lwSubsetScore.micro.f1,
        subsetSeconds: smallMs / 1000,
        peopleExact: fullScore.subjects.every((s) => s.measured === s.expected),
      },
      openredaction: {
        version: '1.0.4',
        jsonProcessor: {
          records: orRecordsDone,
          seconds: orJsonMs / 1000,
          recordsPerSecond: orJsonRate,
          mbPerSecond: mb(orBytes) / (orJsonMs / 1000),
          extrapolatedSecondsForAllLines: lines / orJsonRate,
          f1Subset: orScore.micro.f1,
        },
        text: {
          records: orTextDone,
          seconds: orTextMs / 1000,
          recordsPerSecond: orTextRate,
          mbPerSecond: mb(orTextBytes) / (orTextMs / 1000),
          extrapolatedSecondsForAllLines: lines / orTextRate,
        },
        speedRatio: { jsonProcessor: lwRate / orJsonRate, text: lwRate / orTextRate },
      },
      perCategoryF1: {
        leakwatchSubset: Object.fromEntries(lwSubsetScore.categories.map((c) => [c.category, c.f1])),
        openredactionSubset: Object.fromEntries(orScore.categories.map((c) => [c.category, c.f1])),
      },
      goals: {
        ratioAtMost2: classifyMs / parseMs <= 2,
        allUsersWithin60s: e2eMs / 1000 <= 60,
        allUsersWithin60sOnWorkers: (parallelMs / 1000) * (2_400_000 / users) <= 60,
      },
      sink,
    };

    const f = (x: number, d = 1): string => x.toFixed(d);
    const out = [
      `classify bench: ${users} users, ${lines} NDJSON lines, ${f(mb(bytes), 0)} MB (${files.join(' + ')}), node ${process.version}, ${availableParallelism()} cpus`,
      `  JSON.parse baseline      ${f(parseMs / 1000)} s   ${f(lines / (parseMs / 1000), 0)} records/s   ${f(mb(bytes) / (parseMs / 1000))} MB/s`,
      `  leakwatch (1 thread)     ${f(classifyMs / 1000)} s   ${f(lwRate, 0)} records/s   ${f(mb(bytes) / (classifyMs / 1000))} MB/s   ${f(classifyMs / parseMs, 2)}x JSON.parse (goal <= 2x)`,
      `  leakwatch (${workers} workers)    ${f(parallelMs / 1000)} s   ${f(lines / (parallelMs / 1000), 0)} records/s   ${f(mb(bytes) / (parallelMs / 1000))} MB/s   ${f(parallelMs / parseMs, 2)}x JSON.parse (1 thread), merge ${f(parallel.mergeMs / 1000, 2)} s, same people as 1 thread: ${String(parallelSame)}${users === 2_400_000 ? '' : `, ~${f((parallelMs / 1000) * (2_400_000 / users))} s for 2.4M users (scaled)`}`,
      `  leakwatch classifyFile   ${f(e2eMs / 1000)} s end to end (goal <= 60 s for 2.4M accounts)   ${f(e2eMs / parseMs, 2)}x JSON.parse`,
      `  openredaction JSON       ${f(orJsonRate, 0)} records/s on the first ${orRecordsDone} records; all lines would take ~${f(lines / orJsonRate / 3600, 1)} h (extrapolated)`,
      `  openredaction text       ${f(orTextRate, 0)} records/s on the first ${orTextDone} records; all lines would take ~${f(lines / orTextRate / 60, 0)} min (extrapolated)`,
      `  speed ratio leakwatch/openredaction: ${f(lwRate / orJsonRate, 0)}x (JSON processor), ${f(lwRate / orTextRate, 0)}x (text)`,
      `  field-level micro F1 on the first ${smallRecords} records: leakwatch ${f(lwSubsetScore.micro.f1, 3)}, openredaction ${f(orScore.micro.f1, 3)}; leakwatch on all lines ${f(fullScore.micro.f1, 3)}, people exact: ${String(results.leakwatch.peopleExact)}`,
    ];
    process.stdout.write(out.join('\n') + '\n');
    const resultsDir = fileURLToPath(new URL('results/', import.meta.url));
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, 'classify.json'), JSON.stringify(results, null, 2) + '\n');
  })();
}

if (isMainThread) await main();
else runWorker(workerData as WorkerJob);
