// ISO 8601 / RFC 3339 §5.6 date-time, date only, or with a space instead of `T`. Fixed-width
// fields: linear.
const isoDateTime =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/;
// Day-first or month-first dates with `/`, `.` or `-` (`04/12/2019`, `12.04.2019`).
const slashedDate = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/;
const compactDate = /^(\d{4})(\d{2})(\d{2})$/;
const digitsOnly = /^-?\d{1,16}(?:\.\d{1,6})?$/;

/**
 * Milliseconds since the epoch for a timestamp-like scalar, or NaN. Numbers (and digit strings)
 * between 1e9 and 1e11 are read as epoch seconds, larger ones as milliseconds (POSIX time; the
 * boundaries keep both readings inside 1973-5138). `allowSmall` accepts smaller and negative
 * numbers as seconds too (birth dates before 1970).
 */
export function parseTimestamp(value: string | number, allowSmall = false): number {
  if (typeof value === 'number') return fromEpoch(value, allowSmall);
  const n = value.length;
  if (n < 8 || n > 40) return Number.NaN;
  const c = value.charCodeAt(0);
  if ((c < 48 || c > 57) && c !== 45) {
    // RFC 7231 IMF-fixdate and similar (`Wed, 04 Dec 2019 10:00:00 GMT`).
    if (n >= 16 && n <= 40) return Date.parse(value);
    return Number.NaN;
  }
  if (n === 20 || n === 24) {
    const utc = utcDateTime(value, n);
    if (!Number.isNaN(utc)) return utc;
  }
  if (digitsOnly.test(value)) {
    if (n === 8) {
      const m = compactDate.exec(value);
      if (m !== null) return dateOf(Number(m[1]), Number(m[2]), Number(m[3]));
    }
    return fromEpoch(Number(value), allowSmall);
  }
  let m = isoDateTime.exec(value);
  if (m !== null) {
    const day = dateOf(Number(m[1]), Number(m[2]), Number(m[3]));
    if (Number.isNaN(day) || m[4] === undefined) return day;
    return Date.parse(value.replace(' ', 'T'));
  }
  m = slashedDate.exec(value);
  if (m !== null) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    const y = Number(m[3]);
    // Ambiguous day/month order: either reading gives the same year, which is what callers check.
    return a > 12 ? dateOf(y, b, a) : dateOf(y, a, b);
  }
  return Number.NaN;
}

/** Value of digit `c` (a char code), or -1. */
function digit(c: number): number {
  return c >= 48 && c <= 57 ? c - 48 : -1;
}

/** Decimal value of `value[from, from + count)`, or -1 when a character is not a digit. */
function digitsAt(value: string, from: number, count: number): number {
  let x = 0;
  for (let i = from; i < from + count; i++) {
    const d = digit(value.charCodeAt(i));
    if (d < 0) return -1;
    x = x * 10 + d;
  }
  return x;
}

/**
 * The common RFC 3339 UTC shape, `2019-09-23T12:01:47Z` or `…47.000Z` (T or space), read without
 * a regex or `Date.parse`: it is the most frequent timestamp string by far. Same result as
 * `Date.parse` (which rolls an overlong day into the next month like `Date.UTC` does); NaN for
 * anything else, which the general path then reads.
 */
function utcDateTime(value: string, n: number): number {
  if (value.charCodeAt(n - 1) !== 90 /* Z */) return Number.NaN;
  if (value.charCodeAt(4) !== 45 || value.charCodeAt(7) !== 45) return Number.NaN;
  const t = value.charCodeAt(10);
  if ((t !== 84 && t !== 32) || value.charCodeAt(13) !== 58 || value.charCodeAt(16) !== 58) return Number.NaN;
  let ms = 0;
  if (n === 24) {
    if (value.charCodeAt(19) !== 46) return Number.NaN;
    ms = digitsAt(value, 20, 3);
  }
  const y = digitsAt(value, 0, 4);
  const mo = digitsAt(value, 5, 2);
  const d = digitsAt(value, 8, 2);
  const h = digitsAt(value, 11, 2);
  const mi = digitsAt(value, 14, 2);
  const s = digitsAt(value, 17, 2);
  // Date.UTC maps years 0-99 to 1900-1999; hour 24 and leap seconds: left to Date.parse.
  if (ms < 0 || y < 100 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59)
    return Number.NaN;
  if (s < 0 || s > 59) return Number.NaN;
  return Date.UTC(y, mo - 1, d, h, mi, s, ms);
}

function fromEpoch(x: number, allowSmall: boolean): number {
  if (!Number.isFinite(x)) return Number.NaN;
  if (x >= 1e11) return x;
  if (x >= 1e9) return x * 1000;
  return allowSmall ? x * 1000 : Number.NaN;
}

function dateOf(y: number, mo: number, d: number): number {
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return Number.NaN;
  return Date.UTC(y, mo - 1, d);
}
