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
