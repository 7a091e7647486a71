import type { LockHolder } from './lock-file.js';

/** The PGlite directory is held by another live process. */
export class StoreBusyError extends Error {
  override readonly name = 'StoreBusyError';
  constructor(
    readonly lockPath: string,
    readonly holder: LockHolder | undefined,
  ) {
    super(
      holder === undefined
        ? `the store is locked (${lockPath}); if no leakwatch runs, remove that file`
        : `the store is in use by "leakwatch ${holder.command}" (pid ${holder.pid} on ${holder.host} since ${holder.since}); ` +
            `stop it, or use another --store (lock: ${lockPath})`,
    );
  }
}
