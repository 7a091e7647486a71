/**
 * The demo's terminal voice: one short timestamped line per step, colours only on a terminal.
 * Every text printed here is counts, categories, ports and paths; never a value from the data.
 */
import pc from 'picocolors';

export type Tone = 'step' | 'ok' | 'alert' | 'note' | 'fail';

export interface StoryLog {
  line(tone: Tone, text: string): void;
  /** An indented detail under the last line. */
  detail(text: string): void;
  heading(text: string): void;
  /** A plain block (the summary), printed as is. */
  block(lines: readonly string[]): void;
  colors: ReturnType<typeof pc.createColors>;
}

export function createStoryLog(stream: NodeJS.WriteStream, started: number): StoryLog {
  const colors = pc.createColors(stream.isTTY && process.env['NO_COLOR'] === undefined);
  const mark: Record<Tone, string> = {
    step: colors.cyan('›'),
    ok: colors.green('✓'),
    alert: colors.red('!'),
    note: colors.dim('·'),
    fail: colors.red('✗'),
  };
  const clock = (): string => {
    const now = new Date();
    const elapsed = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
    return colors.dim(`${now.toISOString().slice(11, 19)} +${elapsed}s`);
  };
  const write = (text: string): void => {
    stream.write(`${text}\n`);
  };
  return {
    colors,
    line(tone, text) {
      write(`${clock()} ${mark[tone]} ${tone === 'alert' ? colors.bold(text) : text}`);
    },
    detail(text) {
      write(`${' '.repeat(22)}${colors.dim('│')} ${text}`);
    },
    heading(text) {
      write(`\n${colors.bold(colors.underline(text))}`);
    },
    block(lines) {
      for (const l of lines) write(l);
    },
  };
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
