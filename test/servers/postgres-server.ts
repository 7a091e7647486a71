import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { chownSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, waitForPort } from './free-port.js';

export interface PostgresOptions {
  /** How 127.0.0.1 clients authenticate (pg_hba.conf `host` line). */
  auth: 'trust' | 'scram-sha-256';
  /** Password of the `postgres` superuser; needed for scram-sha-256. */
  password?: string;
  /** Log every statement to `logFile` (read-only assertions). */
  logStatements?: boolean;
}

export interface PrivatePostgres {
  port: number;
  /** Server log (stderr of the postmaster). */
  logFile: string;
  /** Runs SQL as the superuser over the Unix socket (always trusted), in `database`. */
  psql(sql: string, database?: string): Promise<pg.QueryResult[]>;
  /**
   * Switches how 127.0.0.1 clients authenticate, as an operator editing pg_hba.conf and reloading
   * would; `trust` is the mistake. Resolves once a new TCP connection meets the new mode.
   */
  setAuth(mode: PostgresOptions['auth']): Promise<void>;
  stop(): Promise<void>;
}

const binDir = '/usr/lib/postgresql/15/bin';

// initdb and postgres refuse to run as root; CI runs as root, so drop to Debian's `postgres` user.
function postgresAccount(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  const fields = line?.split(':');
  if (fields === undefined || fields.length < 4) throw new Error('no postgres system user');
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

function run(command: string, args: string[], options: SpawnOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} exited ${code}: ${err}`));
    });
  });
}

/** The `host` line for 127.0.0.1; `setAuth` rewrites exactly this line. */
function hbaHostLine(auth: PostgresOptions['auth']): string {
  return `host all all 127.0.0.1/32 ${auth}`;
}

/**
 * Which authentication a fresh TCP connection as `postgres` is asked for: the first message after
 * the StartupMessage is AuthenticationOk (code 0) under trust, AuthenticationSASL (10) under scram.
 * https://www.postgresql.org/docs/15/protocol-message-formats.html
 */
function authRequested(port: number, timeoutMs: number): Promise<PostgresOptions['auth'] | 'other'> {
  return new Promise((resolve) => {
    const params = Buffer.from('user\0postgres\0database\0postgres\0\0');
    const startup = Buffer.alloc(8);
    startup.writeInt32BE(8 + params.length, 0);
    startup.writeInt32BE(196608, 4); // protocol 3.0
    const socket = connect({ host: '127.0.0.1', port });
    let received = Buffer.alloc(0);
    const finish = (answer: PostgresOptions['auth'] | 'other'): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => {
      finish('other');
    });
    socket.once('error', () => {
      finish('other');
    });
    socket.once('connect', () => {
      socket.write(Buffer.concat([startup, params]));
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 9) return;
      // Anything but an 'R' (Authentication*) message, e.g. an 'E' error, answers neither mode.
      const code = received[0] === 0x52 ? received.readInt32BE(5) : -1;
      finish(code === 0 ? 'trust' : code === 10 ? 'scram-sha-256' : 'other');
    });
  });
}

/**
 * Starts a private PostgreSQL 15 (Debian's binaries) in a temp dir on a free loopback port, never
 * the machine's shared cluster on 5432. The Unix socket in the temp dir is always `trust`, so tests
 * can seed a `scram-sha-256` instance without going through the auth they probe.
 */
export async function startPostgres(options: PostgresOptions): Promise<PrivatePostgres> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'lw-pg-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const account = postgresAccount();
  const spawnOptions: SpawnOptions = {
    env: { ...process.env, LC_ALL: 'C', HOME: dir },
    ...(account ?? {}),
  };
  if (account !== undefined) chownSync(dir, account.uid, account.gid);
  const initArgs = [
    '-D',
    data,
    '-U',
    'postgres',
    '--no-sync',
    '--no-instructions',
    '-E',
    'UTF8',
    '--locale=C',
  ];
  if (options.password !== undefined) {
    const pwfile = join(dir, 'pwfile');
    writeFileSync(pwfile, `${options.password}\n`, { mode: 0o600 });
    if (account !== undefined) chownSync(pwfile, account.uid, account.gid);
    initArgs.push(`--pwfile=${pwfile}`);
  }
  await run(
    `${binDir}/initdb`,
    [...initArgs, '--auth-local=trust', `--auth-host=${options.auth}`],
    spawnOptions,
  );
  writeFileSync(join(data, 'pg_hba.conf'), `local all all trust\n${hbaHostLine(options.auth)}\n`);
  const serverArgs = [
    '-D',
    data,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    `unix_socket_directories=${dir}`,
    '-c',
    'fsync=off',
    '-c',
    'full_page_writes=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'shared_buffers=16MB',
    '-c',
    'max_connections=30',
    '-c',
    'log_line_prefix=%a|%c|',
    ...(options.logStatements === true ? ['-c', 'log_statement=all'] : []),
  ];
  // The log goes straight to a file descriptor the postmaster inherits: no pipe to drain.
  const logFd = openSync(logFile, 'w');
  const child: ChildProcess = spawn(`${binDir}/postgres`, serverArgs, {
    ...spawnOptions,
    stdio: ['ignore', 'ignore', logFd],
  });
  closeSync(logFd);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      resolve();
    }),
  );
  try {
    await Promise.race([
      waitForPort(port, '127.0.0.1', 30_000),
      exited.then(() => {
        throw new Error(`postgres exited during startup: ${readFileSync(logFile, 'utf8')}`);
      }),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const psql = async (sql: string, database = 'postgres'): Promise<pg.QueryResult[]> => {
    const client = new pg.Client({ host: dir, port, user: 'postgres', database });
    await client.connect();
    try {
      const result = (await client.query(sql)) as pg.QueryResult | pg.QueryResult[];
      return Array.isArray(result) ? result : [result];
    } finally {
      await client.end();
    }
  };
  // The port accepts connections before recovery ends ("the database system is starting up"):
  // ready means a query answers.
  for (let attempt = 0; ; attempt++) {
    try {
      await psql('select 1');
      break;
    } catch (error) {
      if (attempt >= 100) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    port,
    logFile,
    psql,
    setAuth: async (mode) => {
      const hba = join(data, 'pg_hba.conf');
      const lines = readFileSync(hba, 'utf8').split('\n');
      const rewritten = lines.map((line) =>
        /^host\s.*\s127\.0\.0\.1\/32\s/.test(line) ? hbaHostLine(mode) : line,
      );
      writeFileSync(hba, rewritten.join('\n'));
      // The postmaster reads the file as `postgres`; keep it that user's as initdb left it.
      if (account !== undefined) chownSync(hba, account.uid, account.gid);
      const [reloaded] = await psql('SELECT pg_reload_conf() AS ok');
      const row = reloaded?.rows[0] as { ok?: unknown } | undefined;
      if (row?.ok !== true) throw new Error('pg_reload_conf() did not signal the postmaster');
      // pg_reload_conf only sends SIGHUP; the postmaster rereads pg_hba.conf when it next gets to it.
      const deadline = Date.now() + 3_000;
      let seen = await authRequested(port, 1_000);
      while (seen !== mode) {
        if (Date.now() > deadline) {
          throw new Error(`postgres still asks for ${seen} 3 s after switching to ${mode}`);
        }
        await new Promise((r) => setTimeout(r, 20));
        seen = await authRequested(port, 1_000);
      }
    },
    stop: async () => {
      // SIGQUIT: immediate shutdown; the data dir is thrown away anyway.
      child.kill('SIGQUIT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
