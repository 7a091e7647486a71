import { join } from 'node:path';
import { readLockHolder } from '../src/store/lock-file.js';

/**
 * `leakwatch status --format json`, asked of a running watch's status API as the CLI asks it
 * (address and token from the store's lock file); undefined while the store or API is not up yet.
 */
export async function watchStatus<Row>(storeDir: string, timeoutMs: number): Promise<Row[] | undefined> {
  const api = readLockHolder(join(storeDir, 'leakwatch.lock'))?.api;
  if (api === undefined) return undefined;
  try {
    const response = await fetch(`${api.url}/api/status`, {
      headers: { authorization: `Bearer ${api.token}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
    return response.ok ? ((await response.json()) as Row[]) : undefined;
  } catch {
    return undefined;
  }
}
