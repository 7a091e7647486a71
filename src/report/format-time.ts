const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => String(n).padStart(2, '0');

/** `2019-12-04 10:00:00 UTC`; text that is not a time comes back as given (the caller escapes it). */
export function formatUtc(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** `Dec 04`; axis labels of a chart spanning days. */
export function formatDay(ms: number): string {
  const d = new Date(ms);
  return `${months[d.getUTCMonth()] ?? ''} ${pad(d.getUTCDate())}`;
}

/** `10:05`, UTC; axis labels of a chart spanning hours. */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}
