import { UsageError } from './errors.js';

const unitMs: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `500ms`, `5s`, `2m`, `1h` or a bare number of seconds into milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  const amount = match?.[1];
  if (amount === undefined) {
    throw new UsageError(`invalid duration "${text}": use a number with ms, s, m or h, e.g. 5s or 500ms`);
  }
  const ms = Number(amount) * (unitMs[match?.[2] ?? 's'] ?? 1000);
  if (ms <= 0 || !Number.isFinite(ms)) throw new UsageError(`invalid duration "${text}": must be positive`);
  return Math.round(ms);
}

/** `22d 3h`, `5m 12s`, `800ms`: the two largest units, enough to read an exposure's length at a glance. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return 'unknown';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  const parts: string[] = [];
  let rest = Math.floor(ms);
  for (const [name, size] of units) {
    const amount = Math.floor(rest / size);
    rest -= amount * size;
    if (amount > 0 || parts.length > 0) parts.push(`${amount}${name}`);
    if (parts.length === 2) break;
  }
  return parts.filter((part) => !part.startsWith('0')).join(' ');
}
