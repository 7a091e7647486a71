import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWatch } from '../watch-process.js';

/*
 * What a user gets wrong on the command line: each is refused with exit 2 (usage) and a message
 * saying what to do, before any store directory is created or any target is contacted. (A second
 * watch on a store in use is in watch-redis.test.ts, beside a running watch.)
 */

describe('leakwatch watch refuses bad input with exit 2', () => {
  let dir: string;
  let runs = 0;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lw-watch-bad-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  async function refused(args: string[]): Promise<string> {
    const storeDir = join(dir, `never-created-${++runs}`);
    // No secret in the environment, whatever the developer's shell holds.
    const watch = startWatch([...args, '--store', storeDir, '--for', '5s'], {
      env: { LEAKWATCH_WEBHOOK_SECRET: undefined },
      hardLimitMs: 60_000,
    });
    const exit = await watch.exited;
    expect(exit, watch.stderr).toEqual({ code: 2, signal: null });
    expect(watch.stdout).toBe('');
    expect(existsSync(storeDir)).toBe(false);
    return watch.stderr;
  }

  it('no targets and no config', async () => {
    const stderr = await refused([]);
    expect(stderr).toContain('nothing to watch');
    expect(stderr).toContain('--config');
  });

  it('a target without a protocol', async () => {
    const stderr = await refused(['127.0.0.1']);
    expect(stderr).toContain('needs a protocol');
    expect(stderr).toContain('redis://127.0.0.1');
  });

  it('a network range', async () => {
    const stderr = await refused(['127.0.0.0/30']);
    expect(stderr).toContain('network range');
  });

  it('--webhook without a signing secret', async () => {
    const stderr = await refused(['redis://127.0.0.1:1', '--webhook', 'http://127.0.0.1:1/hook']);
    expect(stderr).toContain('--webhook needs a signing secret');
    expect(stderr).toContain('LEAKWATCH_WEBHOOK_SECRET');
  });

  it('--email-to without --smtp', async () => {
    const stderr = await refused(['redis://127.0.0.1:1', '--email-to', 'oncall@example.com']);
    expect(stderr).toContain('--smtp');
  });
});
