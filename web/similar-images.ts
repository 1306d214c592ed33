import { ApiError, isAbort, type SimilarImage } from './api.js';
import { h } from './dom.js';
import { displayName, formatDistance } from './format.js';
import { paintPicture } from './picture.js';

/** How many similar images the detail view asks for: two rows of its thumbnails. */
const SIMILAR_LIMIT = 12;
/** Thumbnails are 6rem cells (see `.similar` in `style.css`). */
const SIMILAR_SIZES = '6rem';

export type FindSimilar = (imageId: string, limit: number) => Promise<{ items: SimilarImage[] }>;

/**
 * The owner's images most like this one, nearest first, each opening that image. Filled in when the
 * API answers, unless `signal` has aborted by then (the dialog closed or moved on). A 404 (an API
 * without the route, or an image gone since) shows nothing; any other failure says so in a line.
 */
export function similarImages(
  imageId: string,
  find: FindSimilar,
  open: (imageId: string) => void,
  signal: AbortSignal,
): HTMLElement {
  const status = h('p', { class: 'muted', 'data-testid': 'similar-status' }, 'Looking for similar images…');
  const list = h('ul', { class: 'similar', 'data-testid': 'similar-images' });
  const section = h(
    'section',
    { 'aria-label': 'Similar images' },
    h('h3', {}, 'Similar images'),
    status,
    list,
  );
  find(imageId, SIMILAR_LIMIT).then(
    ({ items }) => {
      if (signal.aborted) return;
      const others = items.filter((item) => item.imageId !== imageId);
      status.textContent = others.length > 0 ? '' : 'No similar images.';
      list.replaceChildren(...others.map((item) => similarCard(item, () => open(item.imageId))));
    },
    (error: unknown) => {
      if (signal.aborted || isAbort(error)) return;
      if (error instanceof ApiError && error.status === 404) section.hidden = true;
      else status.textContent = `Similar images are unavailable: ${(error as Error).message}`;
    },
  );
  return section;
}

function similarCard(image: SimilarImage, open: () => void): HTMLLIElement {
  const name = displayName(image.filename);
  const distance = `distance ${formatDistance(image.distance)}`;
  const frame = h('span', { class: 'frame' });
  paintPicture(frame, image, 'cover', SIMILAR_SIZES);
  const button = h(
    'button',
    { type: 'button', class: 'card', 'aria-label': `${name} (${distance})` },
    frame,
    h('span', { class: 'caption' }, name),
    h('span', { class: 'caption muted' }, distance),
  );
  button.addEventListener('click', open);
  return h(
    'li',
    { 'data-testid': 'similar-card', 'data-image-id': image.imageId, 'data-distance': image.distance },
    button,
  );
}
