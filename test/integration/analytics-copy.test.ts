/**
 * The demo's analytics copy runs in a worker thread: it must load the accounts there, answer as the
 * guard says from the moment setProtected resolves, fail clearly when it cannot load, and leave
 * nothing listening once stopped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../corpus/generate-dataset.js';
import { startAnalyticsCopy } from '../../demo/analytics-copy.js';
import { runScan } from '../../src/scan/run-scan.js';
import { isListening } from '../servers/free-port.js';

const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function status(target: string): Promise<string | undefined> {
  const report = await runScan({ targets: [target], timeoutMs: 5_000 });
  return report.targets[0]?.status;
}

describe('analytics copy in a worker thread (real PGlite, pglite-socket and guard)', () => {
  it('loads in the worker, toggles protection before setProtected resolves, and stops cleanly', async () => {
    const work = mkdtempSync(join(tmpdir(), 'lw-copy-'));
    dirs.push(work);
    const dataset = generateDataset({ users: 300, out: join(work, 'dataset'), files: ['accounts.ndjson'] });
    const records = dataset.labels.files['accounts.ndjson']?.collections['accounts']?.records;
    const progress: number[] = [];
    const copy = await startAnalyticsCopy({
      accountsFile: join(dataset.out, 'accounts.ndjson'),
      dataDir: join(work, 'copy'),
      user: 'analyst',
      password: 'secret',
      onProgress: (rows) => progress.push(rows),
    });
    try {
      expect(copy.rows).toBe(records);
      expect(progress.at(-1)).toBe(records);
      expect(copy.loadMs).toBeGreaterThan(0);
      expect(await status(copy.target())).toBe('auth-required');
      await copy.guard.setProtected(false);
      expect(await status(copy.target())).toBe('open');
      await copy.guard.setProtected(true);
      expect(await status(copy.target())).toBe('auth-required');
      expect(await status(copy.target(true))).toBe('open');
    } finally {
      await copy.stop();
    }
    expect(await isListening(copy.guard.port)).toBe(false);
    // Stopping twice is harmless; a stopped copy refuses toggles instead of waiting for an answer.
    await copy.stop();
    await expect(copy.guard.setProtected(false)).rejects.toThrow(/analytics copy/);
  }, 60_000);

  it('rejects with the worker’s reason when the accounts cannot be loaded', async () => {
    const work = mkdtempSync(join(tmpdir(), 'lw-copy-'));
    dirs.push(work);
    await expect(
      startAnalyticsCopy({
        accountsFile: join(work, 'missing.ndjson'),
        dataDir: join(work, 'copy'),
        user: 'analyst',
        password: 'secret',
      }),
    ).rejects.toThrow(/^analytics copy: .*ENOENT.*missing\.ndjson/);
  }, 60_000);
});
