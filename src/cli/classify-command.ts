import { Command, Option, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { randomBytes } from 'node:crypto';
import { classifyFile } from '../classify/classify-file.js';
import { inputFormats } from '../classify/read-records.js';
import { UsageError } from '../core/errors.js';
import type { ScanReport, TargetReport } from '../core/scan-report.js';
import { toolVersion } from '../core/version.js';
import { emitReport } from './emit-report.js';
import { parseFailOn, parseFormat, parsePositiveInt } from './parse-options.js';
import type { CommandResult } from './scan-command.js';

const examples = `
Input formats (from the file name, then the first bytes; force one with --input-format):
  json        a JSON array (streamed), or one object: an Elasticsearch search response
              (hits.hits[]._source, collection _index), {"users": [...]}, or a single record
  ndjson      JSON Lines: one JSON value per line (.jsonl, .ndjson)
  es-bulk     Elasticsearch bulk file: action lines ({"index": {"_index": ...}}) and sources
  csv, tsv    a header row, then records (RFC 4180 quoting); column names are the field paths
  -           reads standard input

Examples:
  $ leakwatch classify users.jsonl
  $ leakwatch classify export.json accounts.csv --format json | jq '.targets[].subjects'
  $ elasticdump --input=http://127.0.0.1:9200/users --output=$ | leakwatch classify - --input-format ndjson
  $ leakwatch classify dump.ndjson --limit 100000 --format sarif --output classify.sarif
  $ leakwatch classify users.jsonl --format html --output report.html

Nothing read is ever printed: reports hold counts, categories and masked examples only.
Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 usage error, 3 internal error.`;

/** Records read so far on stderr, when it is a terminal (stdout carries the report only). */
function createRecordProgress(enabled: boolean): {
  update(file: string, records: number): void;
  stop(): void;
} {
  if (!enabled || !process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  let shown = false;
  let last = 0;
  return {
    update(file, records) {
      const now = performance.now();
      if (now - last < 200) return;
      last = now;
      shown = true;
      process.stderr.write(`\r\x1b[Kclassifying ${file.slice(-50)}: ${records.toLocaleString('en')} records`);
    },
    stop() {
      if (shown) process.stderr.write('\r\x1b[K');
    },
  };
}

/** `leakwatch classify`: what personal or secret data files hold, per field, in people. */
export function classifyCommand(result: CommandResult): CommandUnknownOpts {
  return new Command('classify')
    .summary('say which personal or secret data files hold, per field, and for how many people')
    .description(
      'Read records from files (JSON, JSON Lines, CSV/TSV, Elasticsearch exports) and report, per ' +
        'file: its collections and records, which fields hold which categories of data (email, ' +
        'api_token, health_metric, ...), in how many records and for how many distinct people, ' +
        'with masked examples only. One target per file, in the same formats as scan.',
    )
    .argument('[files...]', 'files to classify (- for standard input)')
    .option(
      '-f, --format <format>',
      'table, json, jsonl, sarif, markdown or html',
      parseFormat,
      'table' as const,
    )
    .option('-o, --output <file>', 'write the report to FILE instead of stdout')
    .option(
      '--fail-on <severity>',
      'exit 1 when a file is at or above: critical, high, medium, low, info, none',
      parseFailOn,
      'high' as const,
    )
    .option('--limit <n>', 'records read per file (default: all)', parsePositiveInt(Number.MAX_SAFE_INTEGER))
    .addOption(
      new Option('--input-format <format>', 'read every file as this format instead of detecting it').choices(
        inputFormats,
      ),
    )
    .option('-q, --quiet', 'no progress or summary on stderr')
    .addHelpText('after', examples)
    .action(async (files, options) => {
      if (files.length === 0)
        throw new UsageError('no files: name some (e.g. leakwatch classify users.jsonl), or - for stdin');
      if (files.filter((f) => f === '-').length > 1)
        throw new UsageError('- (standard input) can be read only once');
      const quiet = options.quiet === true;
      const progress = createRecordProgress(!quiet);
      // Counts people by keyed hashes; the key lives only as long as this run.
      const hashKey = randomBytes(32);
      const startedAt = new Date().toISOString();
      const started = performance.now();
      const targets: TargetReport[] = [];
      try {
        // One file at a time: memory stays that of one file, whatever the list.
        for (const file of files) {
          targets.push(
            await classifyFile(file, {
              hashKey,
              limit: options.limit ?? Infinity,
              ...(options.inputFormat ? { format: options.inputFormat } : {}),
              onProgress: (records) => {
                progress.update(file, records);
              },
            }),
          );
        }
      } finally {
        progress.stop();
      }
      const report: ScanReport = {
        schemaVersion: 1,
        tool: { name: 'leakwatch', version: toolVersion },
        startedAt,
        finishedAt: new Date().toISOString(),
        targets,
      };
      result.exitCode = await emitReport(report, {
        format: options.format,
        output: options.output,
        quiet: quiet,
        failOn: options.failOn,
        startedMs: started,
      });
    });
}
