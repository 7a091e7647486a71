import { SingleBar } from 'cli-progress';
import type { ScanProgress } from '../scan/run-scan.js';

export interface ProgressReporter {
  update(progress: ScanProgress): void;
  stop(): void;
}

/**
 * A progress bar on stderr when stderr is a terminal (stdout carries reports only, DESIGN.md
 * invariant 5); otherwise silent, so logs and CI output stay clean.
 */
export function createProgressReporter(enabled: boolean): ProgressReporter {
  if (!enabled || !process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new SingleBar({
    stream: process.stderr,
    format: 'scanning [{bar}] {value}/{total} endpoints | {target}',
    hideCursor: true,
    clearOnComplete: true,
    barsize: 30,
  });
  let started = false;
  return {
    update(progress) {
      if (!started) {
        bar.start(progress.total, 0, { target: '' });
        started = true;
      }
      bar.update(progress.done, { target: progress.target.slice(0, 50) });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
