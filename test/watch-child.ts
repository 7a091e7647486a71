import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { WatchEvent } from '../src/watch/watch-event.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * `leakwatch watch|worker …` as a real child process (node itself, tsx as a loader, so `kill -9` hits
 * the process that holds the store and the sockets), with its `--json` events and stderr notes
 * collected line by line as they arrive.
 */
export interface WatchChild {
  readonly pid: number;
  readonly events: WatchEvent[];
  /** stderr, one note per line. */
  readonly notes: string[];
  /** Resolves once `test` holds, polling every 50 ms; rejects after `timeoutMs` or if the child exits. */
  waitUntil(what: string, test: () => boolean, timeoutMs: number): Promise<void>;
  /** SIGKILL: no handler runs, nothing is flushed or released. */
  kill9(): Promise<void>;
  /** SIGINT, as Ctrl-C: the graceful path. Resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
  readonly exited: Promise<number | null>;
}

export function startWatchChild(args: string[]): WatchChild {
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', ...args],
    { cwd: root, env: { ...process.env, NO_COLOR: '1' } },
  );
  const events: WatchEvent[] = [];
  const notes: string[] = [];
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      exitCode = code;
      resolve(code);
    });
  });
  const lines = (stream: NodeJS.ReadableStream, onLine: (line: string) => void) => {
    let rest = '';
    stream.on('data', (chunk: Buffer) => {
      rest += chunk.toString('utf8');
      const parts = rest.split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) if (line.trim() !== '') onLine(line);
    });
  };
  lines(child.stdout, (line) => {
    try {
      events.push(JSON.parse(line) as WatchEvent);
    } catch {
      notes.push(`(stdout, not JSON) ${line}`);
    }
  });
  lines(child.stderr, (line) => notes.push(line));
  if (child.pid === undefined) throw new Error('could not start leakwatch');
  const pid = child.pid;

  return {
    pid,
    events,
    notes,
    exited,
    async waitUntil(what, test, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!test()) {
        if (exitCode !== undefined) {
          throw new Error(`leakwatch exited (${exitCode}) waiting for ${what}:\n${notes.join('\n')}`);
        }
        if (Date.now() > deadline) {
          throw new Error(`no ${what} within ${timeoutMs} ms; stderr:\n${notes.slice(-20).join('\n')}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async kill9() {
      if (exitCode === undefined) child.kill('SIGKILL');
      await exited;
    },
    async stop(timeoutMs = 30_000) {
      if (exitCode === undefined) child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/**
 * Whether process `pid` holds an established TCP connection to 127.0.0.1:`port` right now: its
 * socket inodes (/proc/PID/fd) against the kernel's connection table (/proc/net/tcp, hex ports).
 */
export function holdsConnectionTo(pid: number, port: number): boolean {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    // The process is gone.
    return false;
  }
  for (const fd of fds) {
    try {
      const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      if (inode !== undefined) inodes.add(inode);
    } catch {
      // Closed meanwhile.
    }
  }
  const remote = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .some((line) => {
      const fields = line.trim().split(/\s+/);
      // fields: sl local remote state … inode (10th); 01 is ESTABLISHED.
      return fields[2] === remote && fields[3] === '01' && inodes.has(fields[9] ?? '');
    });
}
