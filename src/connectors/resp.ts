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
export function decodeResp(buffer: Buffer, offset = 0, depth = 0): [RespValue, number] | undefined {
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
  const line = buffer.toString('latin1', offset + 1, end);
  const next = end + 2;
  switch (type) {
    case '+':
      return [line, next - offset];
    case '-':
      return [new RespError(line), next - offset];
    case ':': {
      const n = Number(line);
      if (!Number.isFinite(n)) throw new ProtocolError('not a Redis answer (bad integer)');
      return [n, next - offset];
    }
    case '$': {
      const length = Number(line);
      if (!Number.isInteger(length) || length < -1)
        throw new ProtocolError('not a Redis answer (bad length)');
      if (length === -1) return [null, next - offset];
      if (buffer.length < next + length + 2) return undefined;
      return [buffer.toString('utf8', next, next + length), next + length + 2 - offset];
    }
    case '*': {
      const count = Number(line);
      if (!Number.isInteger(count) || count < -1) throw new ProtocolError('not a Redis answer (bad array)');
      if (count === -1) return [null, next - offset];
      const items: RespValue[] = [];
      let position = next;
      for (let i = 0; i < count; i++) {
        const item = decodeResp(buffer, position, depth + 1);
        if (item === undefined) return undefined;
        items.push(item[0]);
        position += item[1];
      }
      return [items, position - offset];
    }
    default:
      throw new ProtocolError('not a Redis answer');
  }
}

/** Frame reader for `TcpSession.request`: the length of one complete RESP value. */
export function readRespFrame(buffer: Buffer): number | undefined {
  return decodeResp(buffer)?.[1];
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
