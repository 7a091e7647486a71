import { UsageError } from '../core/errors.js';
import { readLockHolder } from '../store/lock-file.js';
import { StoreBusyError } from '../store/store-errors.js';
import { parseStoreLocation, Store } from '../store/store.js';

// A short command (status, incident show, …) holding the embedded store is waited for this long.
const shortHolderWaitMs = 20_000;
const longRunning = new Set(['watch', 'serve', 'notify', 'revoke']);

/**
 * Opens the store; while another short command holds an embedded store, waits for it (bounded)
 * rather than fail, so two quick commands in a row or in parallel both work.
 */
async function openWaiting(spec: string | undefined, command: string): Promise<Store> {
  const deadline = Date.now() + shortHolderWaitMs;
  for (;;) {
    try {
      return await Store.open(parseStoreLocation(spec), command);
    } catch (error) {
      if (
        !(error instanceof StoreBusyError) ||
        error.holder === undefined ||
        longRunning.has(error.holder.command) ||
        error.holder.api !== undefined ||
        Date.now() > deadline
      ) {
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** Opens the store `--store` names, turning "in use by another process" into a usage message. */
export async function openStore(spec: string | undefined, command: string): Promise<Store> {
  try {
    return await openWaiting(spec, command);
  } catch (error) {
    if (error instanceof StoreBusyError) throw new UsageError(error.message);
    throw error;
  }
}

/**
 * Reads from the store, or, while `watch` holds the embedded store, from that process's status API
 * (its address is in the lock file), so `status` and `history` work beside a running watch.
 */
export async function readFromStore<T>(
  spec: string | undefined,
  command: string,
  local: (store: Store) => Promise<T>,
  apiPath: string,
): Promise<T | undefined> {
  let store: Store;
  try {
    store = await openWaiting(spec, command);
  } catch (error) {
    if (!(error instanceof StoreBusyError)) throw error;
    const api = readLockHolder(error.lockPath)?.api;
    if (api === undefined) throw new UsageError(error.message);
    const response = await fetch(`${api.url}${apiPath}`, {
      headers: { authorization: `Bearer ${api.token}` },
      signal: AbortSignal.timeout(10_000),
    }).catch((cause: unknown) => {
      throw new UsageError(`${error.message} (and its status API did not answer: ${String(cause)})`);
    });
    if (response.status === 404) return undefined;
    if (!response.ok) throw new UsageError(`the running watch answered HTTP ${response.status}`);
    return (await response.json()) as T;
  }
  try {
    return await local(store);
  } finally {
    await store.close();
  }
}
