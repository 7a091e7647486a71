export interface LineSplitterOptions {
  /** Longer lines are skipped without being buffered, and reported through `onOverlong`. */
  maxLineBytes: number;
  onOverlong: (lineNumber: number) => void;
}

export interface Line {
  /** Without the `\n`; a trailing `\r` stays (JSON treats it as white space). */
  bytes: Buffer;
  /** 1-based. */
  number: number;
}

/**
 * Splits a byte stream on `\n` with bounded memory: a line over the cap is dropped as it streams
 * past, so a 2 GB line costs no more than a short one. Splitting bytes (not decoded text) is safe
 * because a UTF-8 continuation byte is never 0x0A (RFC 3629 §3).
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private partBytes = 0;
  private skipping = false;
  private lineNumber = 0;

  constructor(private readonly options: LineSplitterOptions) {}

  *push(chunk: Buffer): Generator<Line> {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(10, start);
      if (newline === -1) {
        this.keep(chunk.subarray(start));
        return;
      }
      const line = this.finish(chunk.subarray(start, newline));
      if (line !== undefined) yield line;
      start = newline + 1;
    }
  }

  /** The last line, when the input does not end with a newline. */
  *end(): Generator<Line> {
    if (this.partBytes === 0 && !this.skipping) return;
    const line = this.finish(Buffer.alloc(0));
    if (line !== undefined) yield line;
  }

  private keep(rest: Buffer): void {
    if (this.skipping || rest.length === 0) return;
    if (this.partBytes + rest.length > this.options.maxLineBytes) {
      this.skipping = true;
      this.parts = [];
      this.partBytes = 0;
      return;
    }
    this.parts.push(rest);
    this.partBytes += rest.length;
  }

  private finish(tail: Buffer): Line | undefined {
    const number = ++this.lineNumber;
    const skipped = this.skipping || this.partBytes + tail.length > this.options.maxLineBytes;
    const bytes =
      skipped || this.parts.length === 0
        ? tail
        : Buffer.concat([...this.parts, tail], this.partBytes + tail.length);
    this.parts = [];
    this.partBytes = 0;
    this.skipping = false;
    if (skipped) {
      this.options.onOverlong(number);
      return undefined;
    }
    return { bytes, number };
  }
}
