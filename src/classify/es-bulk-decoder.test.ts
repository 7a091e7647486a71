import { describe, expect, it } from 'vitest';
import { EsBulkDecoder } from './es-bulk-decoder.js';
import type { InputProblem } from './input-problem.js';

describe('EsBulkDecoder', () => {
  it('pairs actions with sources, skips deletes, reads update docs and reports stray lines', () => {
    const problems: InputProblem[] = [];
    const decoder = new EsBulkDecoder('file', (p) => problems.push(p));
    const lines: unknown[] = [
      { index: { _index: 'users', _id: '1' } },
      { email: 1 },
      { delete: { _index: 'users', _id: '2' } },
      { create: {} },
      { email: 2 },
      { update: { _index: 'devices', _id: '3' } },
      { doc: { mac: 3 } },
      { notAnAction: true },
    ];
    const records = lines.map((line, i) => decoder.take(line, i + 1)).filter((r) => r !== undefined);
    expect(records).toEqual([
      { collection: 'users', record: { email: 1 } },
      { collection: 'file', record: { email: 2 } },
      { collection: 'devices', record: { mac: 3 } },
    ]);
    expect(problems).toEqual([{ kind: 'malformed', unit: 'line', at: 8 }]);
  });
});
