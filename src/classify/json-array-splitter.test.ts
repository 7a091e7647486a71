import { describe, expect, it } from 'vitest';
import type { InputProblem } from './input-problem.js';
import { JsonArraySplitter } from './json-array-splitter.js';

function split(text: string, chunkSize = Infinity, maxElementBytes = 1 << 20) {
  const problems: InputProblem[] = [];
  const splitter = new JsonArraySplitter({ maxElementBytes, onProblem: (p) => problems.push(p) });
  const bytes = Buffer.from(text);
  const values: unknown[] = [];
  const step = Math.min(chunkSize, bytes.length || 1);
  for (let i = 0; i < bytes.length; i += step) values.push(...splitter.push(bytes.subarray(i, i + step)));
  splitter.end();
  return { values, problems };
}

const tricky = ` [ {"a": "x,]}\\"[{", "b": [1, {"c": null}]}, 2, "s\\\\", [], {"é": "😀"} , true ]  `;
const trickyValues = [{ a: 'x,]}"[{', b: [1, { c: null }] }, 2, 's\\', [], { é: '😀' }, true];

describe('JsonArraySplitter', () => {
  it('splits elements with strings holding brackets, commas and escaped quotes', () => {
    expect(split(tricky)).toEqual({ values: trickyValues, problems: [] });
  });

  it('gives the same elements when fed one byte at a time', () => {
    expect(split(tricky, 1)).toEqual({ values: trickyValues, problems: [] });
  });

  it('reads an empty array and a 10,000-level nested element', () => {
    expect(split('[]')).toEqual({ values: [], problems: [] });
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const result = split(`[${deep}, 1]`, 4096);
    expect(result.values).toHaveLength(2);
    expect(result.values[1]).toBe(1);
    expect(result.problems).toEqual([]);
  });

  it('skips an oversized element without buffering it and keeps the next ones', () => {
    const big = `{"v": "${'x'.repeat(5000)}"}`;
    const result = split(`[{"a":1}, ${big}, {"b":2}]`, 512, 1000);
    expect(result.values).toEqual([{ a: 1 }, { b: 2 }]);
    expect(result.problems).toEqual([{ kind: 'oversized', unit: 'element', at: 2 }]);
  });

  it('skips a malformed element and reports it by position', () => {
    const result = split('[{"a":1}, {bad}, 3]');
    expect(result.values).toEqual([{ a: 1 }, 3]);
    expect(result.problems).toEqual([{ kind: 'malformed', unit: 'element', at: 2 }]);
  });

  it('reports a file truncated mid-element after yielding the complete ones', () => {
    const result = split('[{"a":1},{"b":2},{"c":"unfinis', 7);
    expect(result.values).toEqual([{ a: 1 }, { b: 2 }]);
    expect(result.problems).toEqual([{ kind: 'truncated', unit: 'element', at: 3 }]);
  });

  it('reports a file truncated between elements and data after the array', () => {
    expect(split('[1,').problems).toEqual([{ kind: 'truncated', unit: 'element', at: 2 }]);
    expect(split('[1] [2]')).toEqual({
      values: [1],
      problems: [{ kind: 'trailing', unit: 'document', at: 1 }],
    });
  });
});
