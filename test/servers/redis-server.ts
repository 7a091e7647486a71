import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './free-port.js';

export interface PrivateRedis {
  port: number;
  /** Runs a redis-cli command against this instance (seeding, the "mistake" of a later test). */
  cli(...args: string[]): Promise<string>;
  /**
   * Changes `requirepass` live, as an operator would with CONFIG SET; `''` removes the protection
   * (the mistake a watch test catches). Takes effect for new connections at once.
   */
  setPassword(password: string): Promise<void>;
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
  const passwordAt = extraArgs.indexOf('--requirepass');
  // The cli must follow setPassword, or it would lock itself out the moment the password changes.
  let password = passwordAt === -1 ? '' : (extraArgs[passwordAt + 1] ?? '');
  const cli = (...args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      const authArgs = password === '' ? [] : ['-a', password, '--no-auth-warning'];
      const run = spawn('redis-cli', ['-p', String(port), ...authArgs, ...args]);
      let out = '';
      run.stdout.on('data', (d: Buffer) => (out += d.toString()));
      run.on('error', reject);
      run.on('close', (code) => {
        if (code === 0) resolve(out);
        else reject(new Error(`redis-cli ${args.join(' ')} exited ${code}`));
      });
    });
  return {
    port,
    cli,
    setPassword: async (next) => {
      // redis-cli exits 0 even on an error reply, so the reply itself is checked.
      const reply = await cli('CONFIG', 'SET', 'requirepass', next);
      if (reply.trim() !== 'OK') throw new Error(`CONFIG SET requirepass answered ${reply.trim()}`);
      password = next;
    },
    stop: async () => {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
