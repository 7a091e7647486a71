import type { ProblemSink } from './input-problem.js';

export interface JsonArraySplitterOptions {
  /** An element over this many bytes is skipped as it streams past, never buffered whole. */
  maxElementBytes: number;
  onProblem: ProblemSink;
}

// Byte values of RFC 8259's structural characters and insignificant white space (§2).
const quote = 0x22;
const backslash = 0x5c;
const comma = 0x2c;
const openBracket = 0x5b;
const closeBracket = 0x5d;
const openBrace = 0x7b;
const closeBrace = 0x7d;

function isJsonSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

// Marks an element that was reported and dropped.
const skipped: unique symbol = Symbol('skipped');

type State = 'start' | 'between' | 'element' | 'done' | 'trailing';

/**
 * Streams the elements of a top-level JSON array (RFC 8259) so a 2 GB array never lives in memory:
 * a small state machine tracks strings, escapes and nesting depth to find where each element ends,
 * then parses that element alone. Depth is a counter, so 10,000 levels cost nothing here. Bytes,
 * not text: `"`, `\`, brackets and commas are ASCII and never part of a multi-byte UTF-8 sequence.
 */
export class JsonArraySplitter {
  private state: State = 'start';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private parts: Buffer[] = [];
  private partBytes = 0;
  private oversized = false;
  private elements = 0;

  constructor(private readonly options: JsonArraySplitterOptions) {}

  /** Parsed elements completed by this chunk. Throws only when the input is not an array at all. */
  *push(chunk: Buffer): Generator {
    let elementStart = 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      switch (this.state) {
        case 'start':
          if (isJsonSpace(byte)) continue;
          if (byte !== openBracket) {
            this.state = 'trailing';
            this.options.onProblem({ kind: 'malformed', unit: 'document', at: 1 });
            return;
          }
          this.state = 'between';
          continue;
        case 'between':
          if (isJsonSpace(byte) || byte === comma) continue;
          if (byte === closeBracket) {
            this.state = 'done';
            continue;
          }
          this.state = 'element';
          elementStart = i;
          this.elements++;
          break;
        case 'done':
          if (!isJsonSpace(byte)) {
            this.state = 'trailing';
            this.options.onProblem({ kind: 'trailing', unit: 'document', at: 1 });
          }
          continue;
        case 'trailing':
          return;
        case 'element':
          break;
      }
      // Inside an element.
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (byte === backslash) this.escaped = true;
        else if (byte === quote) this.inString = false;
        continue;
      }
      if (byte === quote) this.inString = true;
      else if (byte === openBrace || byte === openBracket) this.depth++;
      else if (byte === closeBrace || byte === closeBracket) {
        if (this.depth > 0) this.depth--;
        else if (byte === closeBracket) {
          const value = this.finishElement(chunk.subarray(elementStart, i));
          if (value !== skipped) yield value;
          this.state = 'done';
        }
      } else if (byte === comma && this.depth === 0) {
        const value = this.finishElement(chunk.subarray(elementStart, i));
        if (value !== skipped) yield value;
        this.state = 'between';
      }
    }
    if (this.state === 'element') this.keep(chunk.subarray(elementStart));
  }

  /** Reports a file that ends inside the array (a truncated export). */
  end(): void {
    if (this.state === 'element' || this.state === 'between' || this.state === 'start') {
      this.options.onProblem({
        kind: 'truncated',
        unit: 'element',
        at: this.state === 'element' ? this.elements : this.elements + 1,
      });
    }
    this.parts = [];
  }

  private keep(piece: Buffer): void {
    if (this.oversized) return;
    if (this.partBytes + piece.length > this.options.maxElementBytes) {
      this.oversized = true;
      this.parts = [];
      this.partBytes = 0;
      return;
    }
    this.parts.push(piece);
    this.partBytes += piece.length;
  }

  private finishElement(tail: Buffer): unknown {
    const at = this.elements;
    const oversized = this.oversized || this.partBytes + tail.length > this.options.maxElementBytes;
    const bytes = oversized ? undefined : Buffer.concat([...this.parts, tail], this.partBytes + tail.length);
    this.parts = [];
    this.partBytes = 0;
    this.oversized = false;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    if (bytes === undefined) {
      this.options.onProblem({ kind: 'oversized', unit: 'element', at });
      return skipped;
    }
    try {
      return JSON.parse(bytes.toString('utf8')) as unknown;
    } catch {
      this.options.onProblem({ kind: 'malformed', unit: 'element', at });
      return skipped;
    }
  }
}
