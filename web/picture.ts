import { thumbHashToDataURL } from 'thumbhash';
import type { ImageView, OutputFormat, VariantView } from './api.js';
import { h } from './dom.js';
import { displayName } from './format.js';

/** Formats offered as `<source>`s, best first; the `<img>` takes the first format left over. */
const SOURCES: readonly { format: OutputFormat; type: string }[] = [
  { format: 'avif', type: 'image/avif' },
  { format: 'webp', type: 'image/webp' },
];
const FALLBACKS: readonly OutputFormat[] = ['jpeg', 'webp', 'avif'];

/** What a variant's pixels measure: its rendered size where the API reports it, else its box. */
const pixelsOf = (variant: VariantView) => variant.output ?? { width: variant.width, height: variant.height };

/**
 * Fills `frame` with the image: its placeholder at once, then a responsive picture of the variants of
 * `fit` (`cover` thumbnails for a grid, `inside` sizes for a full view) for a slot of `sizes`. An
 * image with no such variant ready keeps its placeholder.
 */
export function paintPicture(
  frame: HTMLElement,
  image: ImageView,
  fit: VariantView['fit'],
  sizes: string,
): void {
  frame.classList.remove('loaded');
  frame.removeAttribute('style');
  const picture = responsivePicture(image, fit, sizes);
  frame.replaceChildren(...(picture ? [picture] : []));
  paintPlaceholder(frame, image);
}

/**
 * A `<picture>` of the image's ready, unmarked variants of one fit, smallest first: one `srcset` per
 * format with `w` descriptors, so the browser picks the size for `sizes` and the screen's density.
 * Undefined when none is ready.
 */
function responsivePicture(
  image: ImageView,
  fit: VariantView['fit'],
  sizes: string,
): HTMLPictureElement | undefined {
  const variants = image.variants
    .filter((variant) => variant.fit === fit && variant.status === 'ready' && !variant.watermarked)
    .sort((a, b) => pixelsOf(a).width - pixelsOf(b).width);
  const srcsetOf = (format: OutputFormat) =>
    variants
      .flatMap((variant) => {
        const url = variant.urls?.[format];
        return url ? [`${url} ${pixelsOf(variant).width}w`] : [];
      })
      .join(', ');
  const fallback = FALLBACKS.find((format) => srcsetOf(format));
  const largest = variants.at(-1);
  if (!fallback || !largest) return undefined;

  const picture = h('picture');
  for (const { format, type } of SOURCES) {
    const srcset = srcsetOf(format);
    if (srcset && format !== fallback) picture.append(h('source', { type, srcset, sizes }));
  }
  const img = h('img', {
    srcset: srcsetOf(fallback),
    sizes,
    src: variants.find((variant) => variant.urls?.[fallback])?.urls?.[fallback],
    alt: displayName(image.filename),
    // The largest variant's shape reserves the space before any pixels arrive.
    width: pixelsOf(largest).width,
    height: pixelsOf(largest).height,
    loading: 'lazy',
    decoding: 'async',
  });
  picture.append(img);
  return picture;
}

/**
 * Paints what shows while the picture loads: the dominant colour at once, then the ThumbHash sketch
 * over it. Both go once the picture has loaded, so they never show through transparent pixels.
 */
function paintPlaceholder(frame: HTMLElement, image: ImageView): void {
  const { placeholder } = image;
  if (!placeholder) return;
  frame.style.backgroundColor = placeholder.dominantColour;
  const hash = Uint8Array.from(atob(placeholder.thumbHash), (char) => char.charCodeAt(0));
  frame.style.backgroundImage = `url("${thumbHashToDataURL(hash)}")`;
  frame.querySelector('img')?.addEventListener('load', () => frame.classList.add('loaded'), { once: true });
}
