import { describe, expect, it } from 'vitest';
import { LineSplitter } from './line-splitter.js';

function split(chunks: string[], maxLineBytes = 1024): { lines: [number, string][]; overlong: number[] } {
  const overlong: number[] = [];
  const splitter = new LineSplitter({ maxLineBytes, onOverlong: (n) => overlong.push(n) });
  const lines: [number, string][] = [];
  for (const chunk of chunks)
    for (const line of splitter.push(Buffer.from(chunk))) lines.push([line.number, line.bytes.toString()]);
  for (const line of splitter.end()) lines.push([line.number, line.bytes.toString()]);
  return { lines, overlong };
}

describe('LineSplitter', () => {
  it('joins lines split across chunks and yields a last line without a newline', () => {
    expect(split(['ab', 'c\nde', 'f\n', '\ng']).lines).toEqual([
      [1, 'abc'],
      [2, 'def'],
      [3, ''],
      [4, 'g'],
    ]);
  });

  it('keeps a trailing \\r (JSON white space) and adds no empty line after a final newline', () => {
    expect(split(['a\r\nb\r\n']).lines).toEqual([
      [1, 'a\r'],
      [2, 'b\r'],
    ]);
  });

  it('skips a line over the cap, even when it spans chunks, and numbers the rest correctly', () => {
    const result = split(['ok\n', 'x'.repeat(6), 'x'.repeat(6), 'x\nfine\n', 'y'.repeat(20)], 10);
    expect(result.lines).toEqual([
      [1, 'ok'],
      [3, 'fine'],
    ]);
    expect(result.overlong).toEqual([2, 4]);
  });

  it('never splits a multi-byte UTF-8 character', () => {
    const bytes = Buffer.from('é€\n😀\n');
    const splitter = new LineSplitter({ maxLineBytes: 100, onOverlong: () => undefined });
    const out: string[] = [];
    for (let i = 0; i < bytes.length; i++)
      for (const line of splitter.push(bytes.subarray(i, i + 1))) out.push(line.bytes.toString());
    expect(out).toEqual(['é€', '😀']);
  });
});
