import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { freePort, waitForPort } from './free-port.js';

export interface PrivateMemcached {
  port: number;
  /** Sends raw text-protocol commands (the test seeding its own server) and returns the answer. */
  send(text: string, until: RegExp): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts a private memcached (Debian's) on a free loopback port, TCP only (`-U 0`), so tests never
 * touch the machine's shared instance on 11211. `-u root` because memcached refuses to run as root
 * without naming the user.
 */
export async function startMemcached(extraArgs: string[] = []): Promise<PrivateMemcached> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'memcached',
    ['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-u', 'root', '-m', '64', ...extraArgs],
    { stdio: 'ignore' },
  );
  await waitForPort(port);
  return {
    port,
    send: (text, until) =>
      new Promise((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port });
        let out = '';
        const timer = setTimeout(() => {
          socket.destroy();
          reject(new Error(`memcached: no ${String(until)} in ${out.slice(0, 200)}`));
        }, 10_000);
        socket.on('data', (chunk: Buffer) => {
          out += chunk.toString('latin1');
          if (until.test(out)) {
            clearTimeout(timer);
            socket.destroy();
            resolve(out);
          }
        });
        socket.on('error', reject);
        socket.write(text);
      }),
    stop: async () => {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
