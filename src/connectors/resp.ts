import { ProtocolError } from '../core/errors.js';

/** A decoded RESP2 value (https://redis.io/docs/latest/develop/reference/protocol-spec/). */
export type RespValue = string | number | null | RespError | RespValue[];

export class RespError {
  constructor(readonly message: string) {}
}

// Nesting past this is not a Redis answer to anything Leakwatch sends.
const maxDepth = 8;

function lineEnd(buffer: Buffer, from: number): number | undefined {
  const end = buffer.indexOf('\r\n', from, 'latin1');
  return end < 0 ? undefined : end;
}

/** Returns [value, bytesConsumed], or undefined when the buffer holds no complete value yet. */
export function decodeResp(buffer: Buffer, offset = 0): [RespValue, number] | undefined {
  return walk(buffer, offset, 0, true);
}

/**
 * Frame reader for `TcpSession.request`: the length of one complete RESP value. It builds no
 * strings, so a pipelined batch of large replies is not decoded twice (once here, once by the caller).
 */
export function readRespFrame(buffer: Buffer): number | undefined {
  return walk(buffer, 0, 0, false)?.[1];
}

// One walker for both: `build` false only measures (the value returned is then null).
function walk(
  buffer: Buffer,
  offset: number,
  depth: number,
  build: boolean,
): [RespValue, number] | undefined {
  if (offset >= buffer.length) return undefined;
  if (depth > maxDepth) throw new ProtocolError('RESP answer nested too deep');
  const type = String.fromCharCode(buffer[offset] ?? 0);
  // Decided by the first byte, so a peer that sends a binary greeting and then waits (TLS, SSH
  // without CRLF yet) is another protocol now, not a timeout later.
  if (!'+-:$*'.includes(type)) throw new ProtocolError('not a Redis answer');
  const end = lineEnd(buffer, offset + 1);
  if (end === undefined) {
    // A RESP header line is short; a long run with no CRLF is another protocol.
    if (buffer.length - offset > 4096) throw new ProtocolError('not a Redis answer (no line end)');
    return undefined;
  }
  const next = end + 2;
  switch (type) {
    case '+':
      return [build ? buffer.toString('latin1', offset + 1, end) : null, next - offset];
    case '-':
      return [build ? new RespError(buffer.toString('latin1', offset + 1, end)) : null, next - offset];
    case ':': {
      const n = Number(buffer.toString('latin1', offset + 1, end));
      if (!Number.isFinite(n)) throw new ProtocolError('not a Redis answer (bad integer)');
      return [n, next - offset];
    }
    case '$': {
      const length = Number(buffer.toString('latin1', offset + 1, end));
      if (!Number.isInteger(length) || length < -1)
        throw new ProtocolError('not a Redis answer (bad length)');
      if (length === -1) return [null, next - offset];
      if (buffer.length < next + length + 2) return undefined;
      return [build ? buffer.toString('utf8', next, next + length) : null, next + length + 2 - offset];
    }
    case '*': {
      const count = Number(buffer.toString('latin1', offset + 1, end));
      if (!Number.isInteger(count) || count < -1) throw new ProtocolError('not a Redis answer (bad array)');
      if (count === -1) return [null, next - offset];
      const items: RespValue[] = [];
      let position = next;
      for (let i = 0; i < count; i++) {
        const item = walk(buffer, position, depth + 1, build);
        if (item === undefined) return undefined;
        if (build) items.push(item[0]);
        position += item[1];
      }
      return [build ? items : null, position - offset];
    }
    default:
      throw new ProtocolError('not a Redis answer');
  }
}

/** Encodes a command as a RESP array of bulk strings. */
export function encodeCommand(...args: string[]): string {
  return `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;
}

/** Parses the `key:value` lines of an `INFO` answer. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}
