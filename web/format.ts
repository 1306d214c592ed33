const UNITS = ['byte', 'kilobyte', 'megabyte', 'gigabyte'] as const;

/** `1234567` → `1.2 MB` in the reader's locale (decimal units, as file browsers show them). */
export function formatBytes(bytes: number): string {
  const exponent = Math.min(UNITS.length - 1, Math.floor(Math.log10(Math.max(bytes, 1)) / 3));
  return new Intl.NumberFormat(undefined, {
    style: 'unit',
    unit: UNITS[exponent],
    unitDisplay: 'short',
    maximumFractionDigits: exponent === 0 ? 0 : 1,
  }).format(bytes / 1000 ** exponent);
}

/** What the page calls an image: the name it was uploaded under, if it had one. */
export const displayName = (filename: string | undefined): string => filename ?? 'Untitled image';
