import { describe, expect, it } from 'vitest';
import { describeBinary } from './describe-binary.js';

describe('describeBinary', () => {
  it('accepts text, including invalid UTF-8 (Latin-1) and tabs, CRLF and escapes', () => {
    expect(describeBinary(Buffer.from('{"a":"b"}\r\n\tx\x1b[0m'))).toBeUndefined();
    expect(describeBinary(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a, 0xff, 0xfe, 0x41]))).toBeUndefined();
  });

  it('rejects NUL bytes, control-byte noise, gzip, zip and UTF-16', () => {
    expect(describeBinary(Buffer.from('abc\0def'))).toBe('binary file, not records');
    expect(describeBinary(Buffer.from([1, 2, 3, 4, 5, 65, 66, 67]))).toBe('binary file, not records');
    expect(describeBinary(Buffer.from([0x1f, 0x8b, 8, 0]))).toMatch(/gzip/);
    expect(describeBinary(Buffer.from('PK\x03\x04rest'))).toMatch(/zip/);
    expect(describeBinary(Buffer.from('\ufeff{}', 'utf16le'))).toMatch(/UTF-16/);
  });
});
