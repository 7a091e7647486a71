/**
 * `signal` or a deadline `ms` from now, whichever aborts first, and the deadline itself (to tell a
 * timeout from a caller's abort). Node 20 holds a timeout signal inside `AbortSignal.any` weakly, so
 * a GC before the deadline drops it (nodejs/node#57736); a listener keeps it alive until it fires.
 */
export function withDeadline(
  signal: AbortSignal,
  ms: number,
): { signal: AbortSignal; deadline: AbortSignal } {
  const deadline = AbortSignal.timeout(ms);
  deadline.addEventListener('abort', () => undefined, { once: true });
  return { signal: AbortSignal.any([signal, deadline]), deadline };
}
