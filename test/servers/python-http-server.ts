import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, waitForPort } from './free-port.js';

export interface PrivateHttpServer {
  port: number;
  stop(): Promise<void>;
}

/**
 * Serves `directory` with Python's own `http.server` (its real directory listing) on a free
 * loopback port. The caller owns the directory.
 */
export async function startPythonHttpServer(directory: string): Promise<PrivateHttpServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'python3',
    ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', directory],
    { stdio: 'ignore' },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await waitForPort(port);
  return {
    port,
    stop: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
