/** Human output: numbers and sizes as an operator reads them. */

const counts = new Intl.NumberFormat('en-US');

export const count = (value: number): string => counts.format(value);

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** Bytes in binary units with one decimal (`12.3 MiB`); whole bytes below 1 KiB. */
export function bytes(value: number): string {
  let size = value;
  let unit = 0;
  while (size >= 1024 && unit < UNITS.length - 1) {
    size /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${size.toFixed(1)} ${UNITS[unit]}`;
}

/** `part` of `whole` as a percentage with one decimal; 100% of nothing. */
export function percent(part: number, whole: number): string {
  return `${(whole === 0 ? 100 : (part / whole) * 100).toFixed(1)}%`;
}

/** Rows of cells as aligned columns: the first left-aligned, the rest right-aligned. */
export function table(rows: readonly (readonly string[])[], indent = '  '): string {
  const columns = Math.max(0, ...rows.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, column) =>
    Math.max(...rows.map((row) => row[column]?.length ?? 0)),
  );
  return rows
    .map(
      (row) =>
        indent +
        row
          .map((cell, column) =>
            column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
          )
          .join('  ')
          .trimEnd(),
    )
    .join('\n');
}

/** `1h02m`, `3m05s`, `42s`: a duration as a progress line shows it. */
export function duration(ms: number): string {
  const total = Math.round(ms / 1000);
  const [hours, minutes, seconds] = [Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60];
  if (hours > 0) return `${hours}h${String(minutes).padStart(2, '0')}m`;
  if (minutes > 0) return `${minutes}m${String(seconds).padStart(2, '0')}s`;
  return `${seconds}s`;
}
