/**
 * Waits `ms`, or less if `signal` aborts: resolves either way, never rejects, so a loop that
 * waits for a retry can check its own stop condition afterwards (Ctrl-C ends the wait at once).
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
  });
}
