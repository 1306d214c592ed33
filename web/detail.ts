import {
  type ImageView,
  isAbort,
  type OutputFormat,
  type TechnicalMetadata,
  type VariantView,
} from './api.js';
import { definitions, h } from './dom.js';
import { displayName, formatBytes } from './format.js';
import { imageContent, nearDuplicateHint } from './image-content.js';
import { paintPicture } from './picture.js';
import { type FindSimilar, similarImages } from './similar-images.js';

export interface DetailElements {
  dialog: HTMLDialogElement;
  title: HTMLElement;
  body: HTMLElement;
  error: HTMLElement;
  close: HTMLButtonElement;
  remove: HTMLButtonElement;
}

export interface DetailActions {
  deleteImage(imageId: string): Promise<void>;
  findSimilar: FindSimilar;
  /** Shows another image in the dialog (a similar one, or the one this nearly duplicates). */
  open(imageId: string): void;
  /** A tag was clicked: narrow the gallery to it. */
  pickTag(name: string): void;
}

/** The dialog is at most 48rem wide with 1rem of padding on each side (see `style.css`). */
const DETAIL_SIZES = '(min-width: 50rem) 46rem, calc(100vw - 2rem)';
const FORMATS: readonly OutputFormat[] = ['avif', 'webp', 'jpeg'];

/**
 * One image in full: the picture, what is in it (tags, caption, colours, moderation) and the owner's
 * similar images, its facts, what the camera recorded and every variant with its URLs and their sizes
 * on the CDN, and a button to delete it. Similar images and the CDN's byte counts are asked for while
 * the dialog shows the image; what answers after it closes or moves on is dropped.
 */
export class DetailDialog {
  #image: ImageView | undefined;
  #lookups: AbortController | undefined;

  constructor(
    private readonly elements: DetailElements,
    private readonly actions: DetailActions,
  ) {
    elements.close.addEventListener('click', () => elements.dialog.close());
    elements.dialog.addEventListener('close', () => this.#lookups?.abort());
    elements.remove.addEventListener('click', () => void this.#delete());
  }

  show(image: ImageView): void {
    const { dialog, title, body, error, remove } = this.elements;
    this.#lookups?.abort();
    this.#lookups = new AbortController();
    this.#image = image;
    title.textContent = displayName(image.filename);
    error.textContent = '';
    remove.disabled = false;
    const { signal } = this.#lookups;
    const open = (imageId: string) => this.actions.open(imageId);
    body.replaceChildren(
      preview(image),
      ...nearDuplicateHint(image.nearDuplicateOf, open),
      ...imageContent(image.enrichment, (name) => {
        this.close();
        this.actions.pickTag(name);
      }),
      similarImages(image.imageId, this.actions.findSimilar, open, signal),
      facts(image),
      ...camera(image.technicalMetadata),
      variantTable(image, signal),
    );
    // Another image shown in the open dialog (a similar one) starts at its top.
    if (dialog.open) dialog.scrollTop = 0;
    else dialog.showModal();
  }

  close(): void {
    this.elements.dialog.close();
  }

  async #delete(): Promise<void> {
    const image = this.#image;
    if (!image) return;
    const { remove, error } = this.elements;
    remove.disabled = true;
    error.textContent = '';
    try {
      await this.actions.deleteImage(image.imageId);
      this.close();
    } catch (failure) {
      if (isAbort(failure)) return;
      error.textContent = `Could not delete: ${(failure as Error).message}`;
      remove.disabled = false;
    }
  }
}

function preview(image: ImageView): HTMLElement {
  const frame = h('div', { class: 'frame' });
  paintPicture(frame, image, 'inside', DETAIL_SIZES);
  return frame;
}

const yesNo = (value: boolean) => (value ? 'yes' : 'no');

function facts(image: ImageView): HTMLElement {
  const problem = [image.reason, image.message].filter(Boolean).join(': ');
  return definitions('Image', [
    ['Status', problem ? `${image.status} (${problem})` : image.status],
    ['Dimensions', `${image.width} × ${image.height} px`],
    ['Format', `${image.format} (${image.contentType})`],
    ['Size', formatBytes(image.bytes)],
    ['Pages', String(image.pages)],
    ['Animated', yesNo(image.animated)],
    ['Transparency', yesNo(image.hasAlpha)],
    ['Collection', image.collection],
    ['Added', new Date(image.createdAt).toLocaleString()],
    ['Image ID (SHA-256)', image.imageId],
  ]);
}

/** What the camera recorded, or nothing when it recorded none of it. */
function camera(metadata: TechnicalMetadata = {}): HTMLElement[] {
  const { cameraMake: make, cameraModel: model } = metadata;
  // Models often repeat the make ("Canon" + "Canon EOS R5").
  const body = make && model?.startsWith(make) ? model : [make, model].filter(Boolean).join(' ');
  const rows: [string, string | undefined][] = [
    ['Model', body || undefined],
    ['Lens', metadata.lens],
    ['ISO', metadata.iso?.toString()],
    ['Exposure', metadata.exposureTime === undefined ? undefined : exposure(metadata.exposureTime)],
    ['Aperture', metadata.fNumber === undefined ? undefined : `ƒ/${metadata.fNumber}`],
    ['Focal length', metadata.focalLength === undefined ? undefined : `${metadata.focalLength} mm`],
    // The camera's wall clock, shown as recorded: it may carry no time zone to convert from.
    ['Taken', metadata.takenAt?.replace('T', ' ')],
    ['Location', metadata.latitude === undefined ? undefined : `${metadata.latitude}, ${metadata.longitude}`],
  ];
  return rows.some(([, value]) => value !== undefined) ? [definitions('Camera', rows)] : [];
}

/** Shutter speeds read as photographers write them: `1/250 s`, `2 s`. */
const exposure = (seconds: number) => (seconds >= 1 ? `${seconds} s` : `1/${Math.round(1 / seconds)} s`);

function variantTable(image: ImageView, signal: AbortSignal): HTMLElement {
  const formats = FORMATS.filter((format) => image.variants.some((variant) => variant.urls?.[format]));
  const head = h(
    'tr',
    {},
    ...['Variant', 'Box', 'Status', 'Output', 'Any', ...formats.map((format) => format.toUpperCase())].map(
      (title) => h('th', { scope: 'col' }, title),
    ),
  );
  const rows = image.variants.map((variant) =>
    h(
      'tr',
      { 'data-testid': 'variant-row', 'data-variant': variant.name, 'data-status': variant.status },
      h('th', { scope: 'row' }, variant.watermarked ? `${variant.name} (watermarked)` : variant.name),
      h('td', {}, `${variant.fit} ${variant.width} × ${variant.height}`),
      h('td', {}, variant.status),
      h('td', {}, variant.output ? `${variant.output.width} × ${variant.output.height}` : '–'),
      // The format-less URL: the CDN answers it with the best format this browser accepts.
      h(
        'td',
        {},
        variant.url ? h('a', { href: variant.url, target: '_blank', rel: 'noopener' }, 'best') : '–',
      ),
      ...formats.map((format) => h('td', {}, ...encodingCell(variant, format, signal))),
    ),
  );
  return h(
    'section',
    { 'aria-label': 'Variants', class: 'variants' },
    h('h3', {}, 'Variants'),
    h('div', { class: 'table-scroll' }, h('table', {}, h('thead', {}, head), h('tbody', {}, ...rows))),
  );
}

/** A link to one encoding of a variant and its byte count, filled in once the CDN answers. */
function encodingCell(variant: VariantView, format: OutputFormat, signal: AbortSignal): (Node | string)[] {
  const url = variant.urls?.[format];
  if (!url) return ['–'];
  const bytes = h('span', { class: 'bytes', 'data-testid': 'variant-bytes', 'data-format': format }, '…');
  cdnBytes(url, signal).then(
    (text) => bytes.replaceChildren(text),
    (error: unknown) => {
      if (isAbort(error)) return;
      bytes.replaceChildren('size unavailable');
      bytes.title = (error as Error).message;
    },
  );
  return [h('a', { href: url, target: '_blank', rel: 'noopener' }, format), ' ', bytes];
}

/** The object's size from the CDN's `Content-Length`, read with `HEAD` so no image bytes are sent. */
async function cdnBytes(url: string, signal: AbortSignal): Promise<string> {
  const response = await fetch(url, { method: 'HEAD', signal });
  const length = response.headers.get('content-length');
  if (!response.ok || length === null) throw new Error(`HEAD ${url}: ${response.status}`);
  return formatBytes(Number(length));
}
