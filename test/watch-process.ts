/**
 * A long-running `leakwatch` command (watch, worker) as a real child process, as a user runs it:
 * `node --import tsx src/cli/main.ts ARGS…` from the repository root with NO_COLOR=1. With `--json`,
 * stdout carries one WatchEvent per line; they are parsed as they arrive, so a test can wait for the
 * event it expects while the process keeps running, then stop it (SIGTERM) or kill it (SIGKILL).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WatchEvent } from '../src/watch/watch-event.js';

const root = fileURLToPath(new URL('..', import.meta.url));

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LeakwatchProcessOptions {
  /** Added to (and overriding) the test's own environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  /** A process still running after this is killed (SIGKILL), so a hung test cannot leak it. Default 5 min. */
  hardLimitMs?: number;
}

export interface LeakwatchProcess {
  readonly pid: number;
  /** Every JSON line of stdout so far, in arrival order. */
  readonly events: readonly WatchEvent[];
  /** Lines of stdout that were not JSON (a text-format run, or a bug). */
  readonly otherStdout: readonly string[];
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ProcessExit>;
  /** Undefined while it runs. */
  readonly exit: ProcessExit | undefined;
  /**
   * The first event (already received or yet to come) that matches; rejects after `timeoutMs`, or
   * when the process exits without printing one, with the events and stderr so far in the message.
   */
  waitForEvent(match: (event: WatchEvent) => boolean, timeoutMs: number): Promise<WatchEvent>;
  /** Resolves with stderr once it matches `pattern`; rejects like `waitForEvent`. */
  waitForStderr(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** Sends SIGTERM (or `signal`) and resolves with the exit; SIGKILLs it after `timeoutMs` (then rejects). */
  stop(timeoutMs?: number, signal?: NodeJS.Signals): Promise<ProcessExit>;
  /** `kill -9`: the crash a test simulates. Resolves once the process is gone. */
  kill(): Promise<ProcessExit>;
}

function describeState(proc: { events: readonly WatchEvent[]; stderr: string }): string {
  const kinds = proc.events.map((e) => `${e.kind}(${e.fromState}->${e.toState})`).join(', ');
  return `events so far: [${kinds}]; stderr:\n${proc.stderr.slice(-2000)}`;
}

/** Starts `leakwatch ARGS…` (e.g. `['watch', 'redis://127.0.0.1:6379', '--json', …]`). */
export function startLeakwatch(
  args: readonly string[],
  options: LeakwatchProcessOptions = {},
): LeakwatchProcess {
  const merged: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', ...options.env };
  const env = Object.fromEntries(
    Object.entries(merged).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', ...args],
    { cwd: root, env },
  );
  if (child.pid === undefined) throw new Error(`could not start leakwatch ${args.join(' ')}`);
  child.stdin.end();

  const events: WatchEvent[] = [];
  const otherStdout: string[] = [];
  let stdout = '';
  let stderr = '';
  let partial = '';
  let exit: ProcessExit | undefined;
  // Woken on every stdout line, stderr chunk and the exit, to re-check what they wait for.
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };

  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        events.push(JSON.parse(line) as WatchEvent);
      } catch {
        otherStdout.push(line);
      }
    }
    notify();
  });
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
    notify();
  });

  const hardLimit = setTimeout(
    () => {
      child.kill('SIGKILL');
    },
    options.hardLimitMs ?? 5 * 60_000,
  );
  const exited = new Promise<ProcessExit>((resolve) => {
    // 'close' (not 'exit'): stdout and stderr are fully read by then.
    child.once('close', (code, signal) => {
      clearTimeout(hardLimit);
      if (partial.trim() !== '') otherStdout.push(partial);
      partial = '';
      exit = { code, signal };
      notify();
      resolve(exit);
    });
  });

  const proc: LeakwatchProcess = {
    pid: child.pid,
    events,
    otherStdout,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
    get exit() {
      return exit;
    },
    waitForEvent: (match, timeoutMs) => waitUntil(() => events.find(match), timeoutMs, 'the expected event'),
    waitForStderr: (pattern, timeoutMs) =>
      waitUntil(() => (pattern.test(stderr) ? stderr : undefined), timeoutMs, `stderr to match ${pattern}`),
    async stop(timeoutMs = 20_000, signal = 'SIGTERM') {
      if (exit !== undefined) return exit;
      child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => {
          resolve('late');
        }, timeoutMs);
      });
      const outcome = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (outcome !== 'late') return outcome;
      child.kill('SIGKILL');
      await exited;
      throw new Error(`leakwatch did not exit within ${timeoutMs} ms of ${signal}; ${describeState(proc)}`);
    },
    async kill() {
      if (exit !== undefined) return exit;
      child.kill('SIGKILL');
      return exited;
    },
  };

  function waitUntil<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const finish = (error: Error | undefined, value?: T) => {
        listeners.delete(listener);
        clearTimeout(timer);
        if (error === undefined) resolve(value as T);
        else reject(error);
      };
      const listener = () => {
        const value = check();
        if (value !== undefined) finish(undefined, value);
        else if (exit !== undefined)
          finish(
            new Error(`leakwatch exited (${JSON.stringify(exit)}) before ${what}; ${describeState(proc)}`),
          );
      };
      const timer = setTimeout(() => {
        finish(new Error(`no ${what} within ${timeoutMs} ms; ${describeState(proc)}`));
      }, timeoutMs);
      listeners.add(listener);
      listener();
    });
  }

  return proc;
}

/** `leakwatch watch ARGS…`. */
export function startWatch(args: readonly string[], options: LeakwatchProcessOptions = {}): LeakwatchProcess {
  return startLeakwatch(['watch', ...args], options);
}
