import type { PaletteColour } from '../lambdas/core/enrichment.js';

/**
 * The palette dominant colours are named from and `colour=` searches by, as sRGB channels, in the
 * order the page offers them. `PALETTE` in `lambdas/core/enrichment.ts` is the source: that module
 * hashes with `node:crypto`, so the page cannot bundle it; the type keeps the names in step and a
 * unit test the channels.
 */
export const SWATCHES = {
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
} as const satisfies Record<PaletteColour, readonly [number, number, number]>;

export const SWATCH_COLOURS = Object.keys(SWATCHES) as PaletteColour[];

/** A palette colour as CSS. */
export const swatchCss = (colour: PaletteColour): string => `rgb(${SWATCHES[colour].join(' ')})`;
