import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { StoreBusyError } from './store-errors.js';

/** Who holds a PGlite directory, and (while `watch` runs) where it answers status queries. */
export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  since: string;
  /** Loopback URL of the holder's read-only status API, with its bearer token. */
  api?: { url: string; token: string };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function draftPath(path: string): string {
  return `${path}.${process.pid}.${Date.now()}.tmp`;
}

export function readLockHolder(path: string): LockHolder | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
  } catch {
    return undefined;
  }
}

/**
 * PGlite has no lock of its own and two processes on one directory corrupt it, so the directory is
 * taken with an exclusively created lock file. A lock left by a process that died (kill -9) on this
 * host is taken over; one held by a live process, or written on another host, is respected.
 */
export class LockFile {
  private constructor(
    readonly path: string,
    private holder: LockHolder,
  ) {}

  static acquire(path: string, command: string): LockFile {
    const holder: LockHolder = {
      pid: process.pid,
      host: hostname(),
      command,
      since: new Date().toISOString(),
    };
    // Two rounds at most: the second after removing a stale lock.
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        // Written whole under a private name, then linked into place: link fails if the lock exists,
        // and a reader never sees it empty (an empty lock would be taken for a stale one).
        const draft = draftPath(path);
        writeFileSync(draft, JSON.stringify(holder), { mode: 0o600 });
        try {
          linkSync(draft, path);
        } finally {
          unlinkSync(draft);
        }
        return new LockFile(path, holder);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const current = readLockHolder(path);
        const stale =
          current === undefined ||
          (current.host === holder.host && current.pid !== process.pid && !isAlive(current.pid));
        if (!stale) throw new StoreBusyError(path, current);
        try {
          unlinkSync(path);
        } catch {
          // Another process removed it first; the next round decides.
        }
      }
    }
    throw new StoreBusyError(path, readLockHolder(path));
  }

  /** Publishes the status API of the holder, so other commands can ask it instead of opening the store. */
  advertise(api: LockHolder['api']): void {
    this.holder = { ...this.holder, ...(api === undefined ? {} : { api }) };
    // Replaced by rename, never truncated in place, so the lock never looks empty (stale) to others.
    const draft = draftPath(this.path);
    writeFileSync(draft, JSON.stringify(this.holder), { mode: 0o600 });
    renameSync(draft, this.path);
  }

  release(): void {
    const current = readLockHolder(this.path);
    if (current?.pid === process.pid && current.host === this.holder.host) {
      try {
        unlinkSync(this.path);
      } catch {
        // Already gone.
      }
    }
  }
}
