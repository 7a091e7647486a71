/** `51234567` → `48.9 MiB`; binary units, as `du -h` and the stores' own tools print them. */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit] ?? ''}`;
}

/** `120000` → `120,000`; `~` marks an estimate or lower bound. */
export function formatCount(count: number | undefined, approximate = false): string {
  if (count === undefined) return '';
  return `${approximate ? '~' : ''}${count.toLocaleString('en-US')}`;
}
