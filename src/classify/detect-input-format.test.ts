import { describe, expect, it } from 'vitest';
import { InputError } from '../core/errors.js';
import { detectInputFormat } from './detect-input-format.js';

const b = (text: string) => Buffer.from(text);

describe('detectInputFormat', () => {
  it.each([
    ['users.jsonl', '{"a":1}\n{"a":2}\n', 'ndjson'],
    ['USERS.NDJSON', '{"a":1}', 'ndjson'],
    ['bulk.ndjson', '{"index":{"_index":"u","_id":"1"}}\n{"a":1}\n', 'es-bulk'],
    ['a.csv', 'x\ty\n', 'csv'],
    ['a.tsv', 'x,y\n', 'tsv'],
    ['a.json', '  [{"a":1}]', 'json'],
    ['a.json', '{\n  "a": 1\n}\n', 'json'],
    ['a.json', '{"a":1}\n', 'json'],
    ['a.json', '{"a":1}\n{"a":2}\n', 'ndjson'],
    ['a.json', '{"create":{"_index":"u"}}\n{"a":1}\n', 'es-bulk'],
    ['-', '[1]', 'json'],
    ['export', '{"a":1}\n{"a":2}', 'ndjson'],
    ['export.txt', 'email,name\nx,y\n', 'csv'],
    ['export.txt', 'email\tname\n', 'tsv'],
  ])('%s %j → %s', (name, head, format) => {
    expect(detectInputFormat(name, b(head))).toBe(format);
  });

  it('throws InputError for a .json file that is not JSON and for text of no known shape', () => {
    expect(() => detectInputFormat('a.json', b('hello'))).toThrow(InputError);
    expect(() => detectInputFormat('notes.txt', b('just words\n'))).toThrow(/unrecognised format/);
  });
});
