import { PALETTE, PALETTE_COLOURS, type PaletteColour } from '../lambdas/core/palette.js';

/** The swatches the page offers, in the palette's own order. */
export const SWATCH_COLOURS: readonly PaletteColour[] = PALETTE_COLOURS;

/** A palette colour as CSS. */
export const swatchCss = (colour: PaletteColour): string => `rgb(${PALETTE[colour].join(' ')})`;
