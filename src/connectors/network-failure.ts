import { LimitError, ProtocolError, ScopeError } from '../core/errors.js';
import { sanitizeText } from '../core/redact.js';
import type { ProbeContext, ProbeResult } from './connector.js';

const unreachableCodes = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
]);

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
    current = current.cause;
  }
  return undefined;
}

/**
 * Maps what went wrong talking to a target onto a probe result, so every connector reports refused
 * ports, timeouts, caps and protocol violations the same way.
 */
export function probeFailure(error: unknown, ctx: ProbeContext): ProbeResult {
  const code = errorCode(error);
  if (code !== undefined && unreachableCodes.has(code)) {
    return { status: 'unreachable', detail: code === 'ECONNREFUSED' ? 'connection refused' : code };
  }
  if (ctx.signal.aborted || code === 'ABORT_ERR' || (error instanceof Error && error.name === 'AbortError')) {
    return { status: 'error', detail: `no complete answer within ${ctx.timeoutMs / 1000} s` };
  }
  if (error instanceof ScopeError) return { status: 'error', detail: sanitizeText(error.message) };
  if (error instanceof LimitError) return { status: 'error', detail: sanitizeText(error.message) };
  // Node's HTTP parser (llhttp) names its errors HPE_*: the peer answered, but not in HTTP.
  if (code?.startsWith('HPE_') === true)
    return { status: 'other-protocol', detail: `answer is not HTTP (${code})` };
  if (error instanceof ProtocolError)
    return { status: 'other-protocol', detail: sanitizeText(error.message) };
  if (code === 'ECONNRESET' || code === 'EPIPE')
    return { status: 'error', detail: 'connection reset by peer' };
  const message = error instanceof Error ? error.message : String(error);
  return { status: 'error', detail: sanitizeText(code === undefined ? message : `${code}: ${message}`) };
}
