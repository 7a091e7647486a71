import { describe, expect, it } from 'vitest';
import { CsvParser, type CsvRecord } from './csv-parser.js';
import type { InputProblem } from './input-problem.js';

function parse(text: string, options: { chunk?: number; delimiter?: ',' | '\t'; max?: number } = {}) {
  const problems: InputProblem[] = [];
  const parser = new CsvParser({
    delimiter: options.delimiter ?? ',',
    maxRecordChars: options.max ?? 1 << 20,
    onProblem: (p) => problems.push(p),
  });
  const records: CsvRecord[] = [];
  const step = options.chunk ?? (text.length || 1);
  for (let i = 0; i < text.length; i += step) records.push(...parser.push(text.slice(i, i + step)));
  records.push(...parser.end());
  return { records, problems };
}

// RFC 4180 §2: CRLF, quoted fields with commas, line breaks and doubled quotes.
const rfc = 'email,note,zip\r\na@b.example,"hello, ""you""",01234\r\nc@d.example,"two\r\nlines",\r\n';
const rfcRecords = [
  { email: 'a@b.example', note: 'hello, "you"', zip: '01234' },
  { email: 'c@d.example', note: 'two\r\nlines', zip: '' },
];

describe('CsvParser', () => {
  it('reads RFC 4180 quoting, CRLF and embedded line breaks; the header names the fields', () => {
    expect(parse(rfc)).toEqual({ records: rfcRecords, problems: [] });
  });

  it('gives the same records when fed one character at a time (a CRLF split across chunks)', () => {
    expect(parse(rfc, { chunk: 1 })).toEqual({ records: rfcRecords, problems: [] });
  });

  it('reads LF and a last record without a line break, and skips blank lines', () => {
    expect(parse('a,b\n\n1,2\n\n3,4').records).toEqual([
      { a: '1', b: '2' },
      { a: '3', b: '4' },
    ]);
  });

  it('names extra cells column_N, leaves missing ones absent and counts ragged rows', () => {
    const result = parse('a,b\n1,2,3,4\n5\n6,7\n');
    expect(result.records).toEqual([
      { a: '1', b: '2', column_3: '3', column_4: '4' },
      { a: '5' },
      { a: '6', b: '7' },
    ]);
    expect(result.problems).toEqual([
      { kind: 'ragged', unit: 'row', at: 2 },
      { kind: 'ragged', unit: 'row', at: 3 },
    ]);
  });

  it('keeps stray quotes as text and counts the row', () => {
    const result = parse('a,b\nsay "hi",x\n"q"z,y\n');
    expect(result.records).toEqual([
      { a: 'say "hi"', b: 'x' },
      { a: 'qz', b: 'y' },
    ]);
    expect(result.problems.map((p) => [p.kind, p.at])).toEqual([
      ['quoting', 2],
      ['quoting', 3],
    ]);
  });

  it('skips a record over the cap (an unclosed quote) without holding it', () => {
    const result = parse(`a,b\n1,2\n"${'x'.repeat(500)}`, { chunk: 64, max: 100 });
    expect(result.records).toEqual([{ a: '1', b: '2' }]);
    expect(result.problems).toEqual([{ kind: 'oversized', unit: 'row', at: 3 }]);
  });

  it('names empty and repeated header cells, and keeps __proto__ a plain key', () => {
    const [record] = parse('id,,id,__proto__\n1,2,3,4\n').records;
    expect(Object.keys(record ?? {})).toEqual(['id', 'column_2', 'id_2', '__proto__']);
    expect(Object.getPrototypeOf(record)).toBe(Object.prototype);
  });

  it('reads TSV with tabs', () => {
    expect(parse('mail\tssid\nx@y.example\thome, sweet\n', { delimiter: '\t' }).records).toEqual([
      { mail: 'x@y.example', ssid: 'home, sweet' },
    ]);
  });

  it('ends a trailing empty cell and an unterminated quote at the end of input', () => {
    expect(parse('a,b\n1,').records).toEqual([{ a: '1', b: '' }]);
    const result = parse('a,b\n1,"open');
    expect(result.records).toEqual([{ a: '1', b: 'open' }]);
    expect(result.problems).toEqual([{ kind: 'quoting', unit: 'row', at: 2 }]);
  });
});
