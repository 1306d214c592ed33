/**
 * The palette dominant colours are named from and `colour=` searches by: coarse on purpose, so
 * `colour=red` finds every reddish image and a dominant colour always has a name to be searched by.
 * Pure and import-free, so the demo page bundles this very module for its swatches.
 */
export const PALETTE = {
  black: [0, 0, 0],
  grey: [128, 128, 128],
  white: [255, 255, 255],
  red: [220, 30, 30],
  orange: [245, 140, 20],
  yellow: [240, 220, 40],
  green: [50, 160, 60],
  teal: [0, 150, 150],
  blue: [40, 90, 220],
  purple: [130, 50, 170],
  pink: [240, 120, 180],
  brown: [130, 80, 40],
} as const satisfies Record<string, readonly [number, number, number]>;

export type PaletteColour = keyof typeof PALETTE;
export const PALETTE_COLOURS = Object.keys(PALETTE) as PaletteColour[];

/** `#rrggbb` or `rrggbb` (any case) → its channels; undefined for anything else. */
export function parseHexColour(text: string): [number, number, number] | undefined {
  const match = /^#?([0-9a-f]{6})$/i.exec(text.trim());
  if (!match?.[1]) return undefined;
  const value = Number.parseInt(match[1], 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

/**
 * Colours whose channels differ by at most this are neutral. The palette has only three neutrals, far
 * apart, and between them redmean finds a hue nearer: #3a3a3a came out brown, #c3c3c3 pink.
 */
const NEUTRAL_SPREAD = 12;
const NEUTRALS: readonly PaletteColour[] = ['black', 'grey', 'white'];

/**
 * The palette colour nearest to an sRGB colour, by the "redmean" approximation of perceived distance
 * (weights red and blue by the mean red level): close to CIE76 at a fraction of the arithmetic. A
 * neutral colour is named by the nearest neutral.
 */
export function nearestPaletteColour(rgb: readonly [number, number, number]): PaletteColour {
  const neutral = Math.max(...rgb) - Math.min(...rgb) <= NEUTRAL_SPREAD;
  let nearest: PaletteColour = 'black';
  let nearestDistance = Number.POSITIVE_INFINITY;
  for (const name of neutral ? NEUTRALS : PALETTE_COLOURS) {
    const [r, g, b] = PALETTE[name];
    const meanRed = (rgb[0] + r) / 2;
    const dr = rgb[0] - r;
    const dg = rgb[1] - g;
    const db = rgb[2] - b;
    const distance = (2 + meanRed / 256) * dr * dr + 4 * dg * dg + (2 + (255 - meanRed) / 256) * db * db;
    if (distance < nearestDistance) {
      nearest = name;
      nearestDistance = distance;
    }
  }
  return nearest;
}

/**
 * What a search for a colour means: a palette name as it is, a hex colour as its nearest palette
 * name; undefined for anything else.
 */
export function paletteColourOf(text: string): PaletteColour | undefined {
  const name = text.trim().toLowerCase();
  if (name in PALETTE) return name as PaletteColour;
  if (name === 'gray') return 'grey';
  const rgb = parseHexColour(name);
  return rgb && nearestPaletteColour(rgb);
}
