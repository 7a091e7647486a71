import type { ProblemSink } from './input-problem.js';

export interface CsvParserOptions {
  /** `,` for CSV (RFC 4180), tab for TSV. */
  delimiter: ',' | '\t';
  /** A record over this many characters is skipped as it streams past (an unclosed quote). */
  maxRecordChars: number;
  onProblem: ProblemSink;
}

/** One CSV record: column name → cell. Missing cells of a short row are absent. */
export type CsvRecord = Record<string, string>;

type State = 'field-start' | 'unquoted' | 'quoted' | 'quote-in-quoted';

/**
 * A streaming RFC 4180 parser over decoded text: quoted fields, `""` escapes, CRLF or LF line
 * breaks, line breaks inside quotes. The first record is the header; its names are the field paths.
 * Lenient where real exports are sloppy (stray quotes are kept as text and counted), strict on
 * memory (a record is capped, so an unclosed quote cannot swallow a 2 GB file into one string).
 */
export class CsvParser {
  private header: string[] | undefined;
  private row: string[] = [];
  private field = '';
  private state: State = 'field-start';
  private rowChars = 0;
  private rowHasContent = false;
  private rowQuoting = false;
  private skipRow = false;
  private afterCr = false;
  private recordNumber = 0;
  private readonly delimiter: number;

  constructor(private readonly options: CsvParserOptions) {
    this.delimiter = options.delimiter.charCodeAt(0);
  }

  *push(text: string): Generator<CsvRecord> {
    const delimiter = this.delimiter;
    let segment = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.afterCr) {
        this.afterCr = false;
        if (c === 0x0a) {
          segment = i + 1;
          continue;
        }
      }
      const lineBreak = c === 0x0a || c === 0x0d;
      switch (this.state) {
        case 'field-start':
          if (c === 0x22) {
            this.state = 'quoted';
            this.rowHasContent = true;
            segment = i + 1;
          } else if (c === delimiter) {
            this.rowHasContent = true;
            this.endField();
          } else if (lineBreak) {
            // `a,` then a line break: the row ends with an empty cell.
            if (this.row.length > 0) this.endField();
            this.afterCr = c === 0x0d;
            const record = this.endRow();
            if (record !== undefined) yield record;
          } else {
            this.state = 'unquoted';
            this.rowHasContent = true;
            segment = i;
          }
          break;
        case 'unquoted':
          if (c === delimiter || lineBreak) {
            this.append(text.slice(segment, i));
            this.endField();
            this.state = 'field-start';
            if (lineBreak) {
              this.afterCr = c === 0x0d;
              const record = this.endRow();
              if (record !== undefined) yield record;
            }
          } else if (c === 0x22) {
            this.rowQuoting = true;
          }
          break;
        case 'quoted':
          if (c === 0x22) {
            this.append(text.slice(segment, i));
            this.state = 'quote-in-quoted';
          }
          break;
        case 'quote-in-quoted':
          if (c === 0x22) {
            // RFC 4180 §2.7: a doubled quote inside a quoted field is one quote.
            this.append('"');
            this.state = 'quoted';
            segment = i + 1;
          } else if (c === delimiter || lineBreak) {
            this.endField();
            this.state = 'field-start';
            if (lineBreak) {
              this.afterCr = c === 0x0d;
              const record = this.endRow();
              if (record !== undefined) yield record;
            }
          } else {
            // `"ab"c`: text after the closing quote; keep it, count the row.
            this.rowQuoting = true;
            this.state = 'unquoted';
            segment = i;
          }
          break;
      }
    }
    if (this.state === 'unquoted' || this.state === 'quoted') this.append(text.slice(segment));
  }

  /** The last record, when the text does not end with a line break. */
  *end(): Generator<CsvRecord> {
    if (this.state === 'quoted') this.rowQuoting = true;
    if (this.state !== 'field-start' || this.row.length > 0) this.endField();
    this.state = 'field-start';
    const record = this.endRow();
    if (record !== undefined) yield record;
  }

  private append(text: string): void {
    if (this.skipRow) return;
    this.rowChars += text.length;
    if (this.rowChars > this.options.maxRecordChars) {
      this.skipRow = true;
      this.row = [];
      this.field = '';
      return;
    }
    this.field += text;
  }

  private endField(): void {
    if (!this.skipRow) this.row.push(this.field);
    this.field = '';
  }

  private endRow(): CsvRecord | undefined {
    const { row } = this;
    const skip = this.skipRow;
    const quoting = this.rowQuoting;
    const content = this.rowHasContent;
    this.row = [];
    this.field = '';
    this.rowChars = 0;
    this.rowHasContent = false;
    this.rowQuoting = false;
    this.skipRow = false;
    // Blank lines separate nothing in practice; skipping them is what every CSV reader does.
    if (!content && !skip) return undefined;
    const at = ++this.recordNumber;
    if (skip) {
      this.options.onProblem({ kind: 'oversized', unit: 'row', at });
      return undefined;
    }
    if (quoting) this.options.onProblem({ kind: 'quoting', unit: 'row', at });
    if (this.header === undefined) {
      this.header = columnNames(row);
      return undefined;
    }
    const header = this.header;
    if (row.length !== header.length) this.options.onProblem({ kind: 'ragged', unit: 'row', at });
    // fromEntries defines own properties, so a hostile `__proto__` column stays a plain key.
    return Object.fromEntries(row.map((cell, i) => [header[i] ?? `column_${i + 1}`, cell]));
  }
}

/** Header cells as field paths: an empty name becomes `column_N`, a repeated one `name_2`. */
function columnNames(cells: string[]): string[] {
  const seen = new Map<string, number>();
  return cells.map((cell, i) => {
    const base = cell.trim() === '' ? `column_${i + 1}` : cell.trim();
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    return count === 1 ? base : `${base}_${count}`;
  });
}
