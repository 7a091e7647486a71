import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../core/errors.js';
import { decodeResp, encodeCommand, parseInfo, readRespFrame, RespError } from './resp.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

describe('decodeResp', () => {
  it('decodes the RESP2 scalar types with the bytes each consumed', () => {
    expect(decodeResp(bytes('+PONG\r\n'))).toEqual(['PONG', 7]);
    expect(decodeResp(bytes(':42\r\n'))).toEqual([42, 5]);
    expect(decodeResp(bytes('$5\r\nhello\r\n'))).toEqual(['hello', 11]);
    expect(decodeResp(bytes('$0\r\n\r\n'))).toEqual(['', 6]);
    expect(decodeResp(bytes('$-1\r\n'))).toEqual([null, 5]);
    expect(decodeResp(bytes('*-1\r\n'))).toEqual([null, 5]);
  });

  it('reads a bulk string by its length, CRLF inside included', () => {
    expect(decodeResp(bytes('$7\r\na\r\nb\r\nc\r\n'))).toEqual(['a\r\nb\r\nc', 13]);
  });

  it('returns errors as RespError values, not exceptions', () => {
    const decoded = decodeResp(bytes('-NOAUTH Authentication required.\r\n'));
    expect(decoded?.[0]).toBeInstanceOf(RespError);
    expect((decoded?.[0] as RespError).message).toBe('NOAUTH Authentication required.');
    expect(decoded?.[1]).toBe(34);
  });

  it('decodes nested arrays, as SCAN answers them', () => {
    const frame = '*2\r\n$1\r\n0\r\n*3\r\n$5\r\nuser:\r\n:7\r\n*1\r\n+x\r\n';
    expect(decodeResp(bytes(frame))).toEqual([['0', ['user:', 7, ['x']]], frame.length]);
  });

  it('waits (undefined) on every strict prefix of a frame, then decodes the whole', () => {
    const frame = '*3\r\n+OK\r\n$6\r\nfoobar\r\n*1\r\n:1\r\n';
    for (let cut = 0; cut < frame.length; cut++)
      expect(decodeResp(bytes(frame.slice(0, cut)))).toBeUndefined();
    expect(decodeResp(bytes(frame))?.[1]).toBe(frame.length);
  });

  it('measures frames (readRespFrame) exactly as decodeResp consumes them, prefixes included', () => {
    const frame = '*2\r\n$1\r\n0\r\n*4\r\n$5\r\nuser:\r\n:7\r\n-ERR x\r\n*1\r\n+x\r\n+next\r\n';
    for (let cut = 0; cut <= frame.length; cut++) {
      const prefix = bytes(frame.slice(0, cut));
      expect(readRespFrame(prefix)).toBe(decodeResp(prefix)?.[1]);
    }
  });

  it('consumes one value and leaves what follows', () => {
    expect(decodeResp(bytes('+OK\r\n:1\r\n'))).toEqual(['OK', 5]);
    expect(readRespFrame(bytes('+OK\r\n:1\r\n'))).toBe(5);
    expect(decodeResp(bytes('+OK\r\n:1\r\n'), 5)).toEqual([1, 4]);
  });

  it('throws ProtocolError on bytes that are not RESP', () => {
    for (const text of [
      'HTTP/1.1 400 Bad Request\r\n',
      'SSH-2.0-OpenSSH_9.2p1\r\n',
      '\x16\x03\x01\x02\x00',
      ':abc\r\n',
      '$-2\r\n',
      '$1.5\r\n',
      '*x\r\n',
      '*-3\r\n',
    ]) {
      expect(() => decodeResp(bytes(text)), JSON.stringify(text)).toThrow(ProtocolError);
    }
  });

  it('throws ProtocolError on a header line that never ends instead of waiting for it', () => {
    expect(decodeResp(bytes(`+${'a'.repeat(4000)}`))).toBeUndefined();
    expect(() => decodeResp(bytes(`+${'a'.repeat(5000)}`))).toThrow(ProtocolError);
  });

  it('caps nesting depth', () => {
    expect(decodeResp(bytes(`${'*1\r\n'.repeat(8)}:1\r\n`))?.[1]).toBe(8 * 4 + 4);
    expect(() => decodeResp(bytes(`${'*1\r\n'.repeat(9)}:1\r\n`))).toThrow(ProtocolError);
    expect(() => decodeResp(bytes(`${'*1\r\n'.repeat(10_000)}:1\r\n`))).toThrow(/nested too deep/);
  });
});

describe('encodeCommand', () => {
  it('encodes an array of bulk strings, lengths in bytes', () => {
    expect(encodeCommand('PING')).toBe('*1\r\n$4\r\nPING\r\n');
    expect(encodeCommand('AUTH', 'pä')).toBe('*2\r\n$4\r\nAUTH\r\n$3\r\npä\r\n');
  });
});

describe('parseInfo', () => {
  it('keeps key:value lines and skips section headers', () => {
    const info = parseInfo(
      '# Server\r\nredis_version:7.0.15\r\n\r\n# Keyspace\r\ndb0:keys=250,expires=0\r\n',
    );
    expect([...info]).toEqual([
      ['redis_version', '7.0.15'],
      ['db0', 'keys=250,expires=0'],
    ]);
  });
});
