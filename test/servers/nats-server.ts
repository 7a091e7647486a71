import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './free-port.js';

export interface NatsOptions {
  user?: string;
  pass?: string;
  /** JetStream with a store in a temporary directory. */
  jetstream?: boolean;
  /** Monitoring HTTP on client port + 4000, the offset the connector looks at (4222 → 8222). */
  monitor?: boolean;
}

export interface PrivateNats {
  port: number;
  /**
   * Speaks raw NATS protocol to this instance as a test client (seeding its own server): sends
   * CONNECT, then `text`, and resolves once `done` accepts everything received.
   */
  client(text: string, done: (received: string) => boolean): Promise<string>;
  stop(): Promise<void>;
}

async function portPair(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await freePort();
    if (port + 4000 > 65535) continue;
    // freePort picks any port; listening briefly on port + 4000 tells whether that one is free.
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => {
        resolve(false);
      });
      server.listen(port + 4000, '127.0.0.1', () => {
        server.close(() => {
          resolve(true);
        });
      });
    });
    if (free) return port;
  }
  throw new Error('no free port pair for nats-server');
}

/**
 * Starts a private nats-server (Debian's) on free loopback ports, so tests never touch the
 * machine's shared instance on 4222/8222.
 */
export async function startNats(options: NatsOptions = {}): Promise<PrivateNats> {
  const port = options.monitor === true ? await portPair() : await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'lw-nats-'));
  const args = ['-a', '127.0.0.1', '-p', String(port)];
  if (options.monitor === true) args.push('-m', String(port + 4000));
  if (options.user !== undefined && options.pass !== undefined)
    args.push('--user', options.user, '--pass', options.pass);
  if (options.jetstream === true) args.push('-js', '-sd', dir);
  const child: ChildProcess = spawn('nats-server', args, { stdio: 'ignore' });
  await waitForPort(port);
  if (options.monitor === true) await waitForPort(port + 4000);
  const credentials = options.user === undefined ? {} : { user: options.user, pass: options.pass ?? '' };
  return {
    port,
    client: (text, done) =>
      new Promise((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port });
        let out = '';
        let greeted = false;
        const timer = setTimeout(() => {
          socket.destroy();
          reject(new Error(`nats client: timed out; got ${out.slice(0, 300)}`));
        }, 10_000);
        socket.on('data', (chunk: Buffer) => {
          out += chunk.toString('latin1');
          if (!greeted && out.includes('\r\n')) {
            greeted = true;
            out = '';
            socket.write(
              `CONNECT ${JSON.stringify({ verbose: false, pedantic: false, ...credentials })}\r\n${text}`,
            );
          }
          if (greeted && done(out)) {
            clearTimeout(timer);
            socket.destroy();
            resolve(out);
          }
        });
        socket.on('error', reject);
      }),
    stop: async () => {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
