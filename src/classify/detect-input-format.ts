import { extname } from 'node:path';
import { InputError } from '../core/errors.js';
import { bulkAction } from './es-bulk-decoder.js';
import type { InputFormat } from './read-records.js';

function firstNonSpace(head: Buffer, from = 0): number {
  for (let i = from; i < head.length; i++) {
    const byte = head[i] as number;
    if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return i;
  }
  return -1;
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * `{` starts either one (pretty-printed) object or a stream of one-line objects: when the whole
 * first line parses and another line follows, it is a stream (JSON Lines, jsonlines.org).
 */
function sniffJson(head: Buffer): InputFormat | undefined {
  const start = firstNonSpace(head);
  if (start === -1) return undefined;
  if (head[start] === 0x5b) return 'json';
  if (head[start] !== 0x7b) return undefined;
  const newline = head.indexOf(10, start);
  if (newline === -1) return 'json';
  const first = parseOrUndefined(head.subarray(start, newline).toString('utf8'));
  if (first === undefined) return 'json';
  const next = firstNonSpace(head, newline + 1);
  if (next === -1) return 'json';
  return bulkAction(first) === undefined ? 'ndjson' : 'es-bulk';
}

function sniffLines(head: Buffer): InputFormat {
  const start = firstNonSpace(head);
  const newline = head.indexOf(10, Math.max(start, 0));
  if (start === -1 || newline === -1) return 'ndjson';
  return bulkAction(parseOrUndefined(head.subarray(start, newline).toString('utf8'))) === undefined
    ? 'ndjson'
    : 'es-bulk';
}

/** A header line with tabs is TSV, with commas CSV (RFC 4180 has no other marker). */
function sniffDelimited(head: Buffer): InputFormat | undefined {
  const newline = head.indexOf(10);
  const line = head.subarray(0, newline === -1 ? head.length : newline);
  if (line.includes(0x09)) return 'tsv';
  if (line.includes(0x2c)) return 'csv';
  return undefined;
}

/**
 * The format of a file from its name, then from its first bytes (BOM already removed): `.jsonl`
 * and `.ndjson` are JSON Lines (or an Elasticsearch bulk file when the first line is an action),
 * `.csv` and `.tsv` what they say, anything else by its first character.
 */
export function detectInputFormat(name: string, head: Buffer): InputFormat {
  switch (extname(name).toLowerCase()) {
    case '.jsonl':
    case '.ndjson':
    case '.ldjson':
      return sniffLines(head);
    case '.csv':
      return 'csv';
    case '.tsv':
    case '.tab':
      return 'tsv';
    case '.json': {
      const format = sniffJson(head);
      if (format === undefined) throw new InputError('not JSON: the file does not start with [ or {');
      return format;
    }
    default: {
      const format = sniffJson(head) ?? sniffDelimited(head);
      if (format === undefined)
        throw new InputError(
          'unrecognised format (not JSON, JSON Lines, CSV or TSV); name it with --input-format',
        );
      return format;
    }
  }
}
