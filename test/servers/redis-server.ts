import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './free-port.js';

export interface PrivateRedis {
  port: number;
  /** Runs a redis-cli command against this instance (seeding, the "mistake" of a later test). */
  cli(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts a private redis-server (Debian's) on a free loopback port, persisting nothing, so tests
 * never touch the machine's shared instance on 6379.
 */
export async function startRedis(extraArgs: string[] = []): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'lw-redis-'));
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      ...extraArgs,
    ],
    { stdio: 'ignore' },
  );
  await waitForPort(port);
  const password = extraArgs[extraArgs.indexOf('--requirepass') + 1];
  const authArgs =
    extraArgs.includes('--requirepass') && password !== undefined
      ? ['-a', password, '--no-auth-warning']
      : [];
  return {
    port,
    cli: (...args) =>
      new Promise((resolve, reject) => {
        const run = spawn('redis-cli', ['-p', String(port), ...authArgs, ...args]);
        let out = '';
        run.stdout.on('data', (d: Buffer) => (out += d.toString()));
        run.on('error', reject);
        run.on('close', (code) => {
          if (code === 0) resolve(out);
          else reject(new Error(`redis-cli ${args.join(' ')} exited ${code}`));
        });
      }),
    stop: async () => {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
