import { InvalidArgumentError } from '@commander-js/extra-typings';
import { parseDuration } from '../core/duration.js';
import { UsageError } from '../core/errors.js';
import { severities, type Severity } from '../core/scan-report.js';
import { reportFormats, type ReportFormat } from '../report/report-writer.js';

// Commander prints InvalidArgumentError with the option's name and exits 2 through our handler.

export function parseFormat(value: string): ReportFormat {
  if ((reportFormats as readonly string[]).includes(value)) return value as ReportFormat;
  throw new InvalidArgumentError(`use one of ${reportFormats.join(', ')}`);
}

export function parseFailOn(value: string): Severity | 'none' {
  if (value === 'none' || (severities as readonly string[]).includes(value))
    return value as Severity | 'none';
  throw new InvalidArgumentError(`use one of ${severities.join(', ')}, none`);
}

export function parsePositiveInt(max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < 1 || n > max)
      throw new InvalidArgumentError(`use a whole number from 1 to ${max}`);
    return n;
  };
}

/** Any number above 0 (`--rate 0.5`), or with `integer` a whole one (`--canary 100`). */
export function parsePositiveNumber(integer: boolean) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
      throw new InvalidArgumentError(`use a positive ${integer ? 'whole ' : ''}number`);
    return n;
  };
}

export function parseDurationOption(value: string): number {
  try {
    return parseDuration(value);
  } catch (error) {
    if (error instanceof UsageError) throw new InvalidArgumentError('use e.g. 5s, 500ms or 2m');
    throw error;
  }
}

/** `--exclude a,b --exclude c` → `['a', 'b', 'c']`. */
export function collectList(value: string, previous: string[] | undefined): string[] {
  return [
    ...(previous ?? []),
    ...value
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== ''),
  ];
}

/** A whole number ≥ 0 (`--sample 0` turns classification off). */
export function parseCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n))
    throw new InvalidArgumentError('use a whole number, 0 or more');
  return n;
}
