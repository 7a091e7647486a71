import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { freePort, waitForPort } from './free-port.js';

export interface MariadbOptions {
  /** Password for every root account; without it root logs in with an empty password. */
  rootPassword?: string;
}

export interface PrivateMariadb {
  port: number;
  /** Runs SQL (several statements allowed) as root over the Unix socket; returns the last result's rows. */
  query(sql: string): Promise<unknown>;
  stop(): Promise<void>;
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} exited ${code}: ${err}`));
    });
  });
}

/**
 * Starts a private MariaDB 10.11 (Debian's) in a temp dir on a free loopback port, with grant
 * tables, never the machine's shared server on 3306. `--auth-root-authentication-method=normal`
 * gives root@127.0.0.1 an empty password instead of unix_socket auth, which is the exposure the
 * connector looks for; no anonymous accounts are created.
 */
export async function startMariadb(options: MariadbOptions = {}): Promise<PrivateMariadb> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'lw-mariadb-'));
  const data = join(dir, 'data');
  const socketPath = join(dir, 'mariadb.sock');
  const logFile = join(dir, 'server.log');
  // mariadbd refuses to run as root unless told to; as anyone else --user is not needed.
  const userArgs = process.getuid?.() === 0 ? ['--user=root'] : [];
  await run('mariadb-install-db', [
    '--no-defaults',
    `--datadir=${data}`,
    // A private tmpdir: the bootstrap's temporary tables in the shared /tmp were seen to vanish
    // under a busy CI run ("Could not remove temporary table").
    `--tmpdir=${dir}`,
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
    '--skip-name-resolve',
    ...userArgs,
  ]);
  const logFd = openSync(logFile, 'w');
  const child: ChildProcess = spawn(
    'mariadbd',
    [
      '--no-defaults',
      `--datadir=${data}`,
      `--tmpdir=${dir}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--socket=${socketPath}`,
      `--pid-file=${join(dir, 'mariadb.pid')}`,
      '--skip-name-resolve',
      '--skip-log-bin',
      '--innodb-buffer-pool-size=16M',
      '--innodb-flush-log-at-trx-commit=0',
      '--skip-innodb-doublewrite',
      ...userArgs,
    ],
    { stdio: ['ignore', 'ignore', logFd] },
  );
  closeSync(logFd);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      resolve();
    }),
  );
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  let password = '';
  const query = async (sql: string): Promise<unknown> => {
    const connection = await mysql.createConnection({
      socketPath,
      user: 'root',
      password,
      multipleStatements: true,
    });
    try {
      const [rows] = await connection.query(sql);
      return rows;
    } finally {
      await connection.end();
    }
  };
  try {
    await Promise.race([
      (async () => {
        await waitForPort(port, '127.0.0.1', 30_000);
        // mariadbd opens its TCP port a moment before its Unix socket, which query() uses.
        for (let waited = 0; !existsSync(socketPath); waited += 50) {
          if (waited > 10_000) throw new Error(`mariadbd never created ${socketPath}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })(),
      exited.then(() => {
        throw new Error(`mariadbd exited during startup: ${readFileSync(logFile, 'utf8')}`);
      }),
    ]);
    if (options.rootPassword !== undefined) {
      const quoted = options.rootPassword.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
      await query(
        ['localhost', '127.0.0.1', '::1']
          .map((host) => `ALTER USER 'root'@'${host}' IDENTIFIED BY '${quoted}';`)
          .join(' '),
      );
      password = options.rootPassword;
    }
  } catch (error) {
    await kill();
    throw error;
  }
  return { port, query, stop: kill };
}
