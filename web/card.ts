import type { ImageView } from './api.js';
import { tagList } from './chips.js';
import { h } from './dom.js';
import { displayName } from './format.js';
import { paintPicture } from './picture.js';

/** A card's state: the image's status, or the page's own while its view loads or when it could not. */
type CardStatus = 'loading' | 'error' | ImageView['status'];

const BADGES: Record<CardStatus, string> = {
  loading: '',
  error: 'Unavailable',
  processing: 'Processing',
  ready: '',
  failed: 'Failed',
};

/**
 * The grid's cells are 9–12rem wide: two columns on a phone, fixed width from 40rem up (see
 * `style.css`), so the browser can pick a thumbnail before layout.
 */
const GRID_SIZES = '(min-width: 40rem) 12rem, 50vw';

/** A card shows the image's most confident tags only; the detail view shows them all. */
const CARD_TAGS = 3;

/**
 * A gallery card: a button that opens the image, showing its thumbnail, name and status, and under
 * it (buttons cannot hold buttons) the image's top tags, once it has any.
 */
export function createCard(imageId: string, filename: string | undefined, open: () => void): HTMLLIElement {
  const button = h(
    'button',
    { type: 'button', class: 'card', 'aria-haspopup': 'dialog' },
    h('span', { class: 'frame' }),
    h('span', { class: 'badge' }),
    h('span', { class: 'caption' }),
  );
  button.addEventListener('click', open);
  const card = h('li', { 'data-testid': 'gallery-card', 'data-image-id': imageId }, button);
  label(card, filename, 'loading');
  return card;
}

/** Repaints a card in place (its button keeps focus) from the image's latest view. */
export function paintCard(card: HTMLLIElement, image: ImageView, pickTag: (name: string) => void): void {
  const frame = card.querySelector<HTMLElement>('.frame');
  if (frame) paintPicture(frame, image, 'cover', GRID_SIZES);
  label(card, image.filename, image.status);
  card.querySelector('.chips')?.remove();
  const tags = image.enrichment?.tags?.slice(0, CARD_TAGS) ?? [];
  if (tags.length > 0) card.append(tagList(tags, pickTag));
}

/** Marks a card whose view could not be read. */
export function markCardUnavailable(card: HTMLLIElement): void {
  label(card, card.querySelector('.caption')?.textContent ?? undefined, 'error');
}

function label(card: HTMLLIElement, filename: string | undefined, status: CardStatus): void {
  const name = displayName(filename);
  card.dataset.status = status;
  const badge = BADGES[status];
  card.querySelector('.badge')?.replaceChildren(badge);
  card.querySelector('.caption')?.replaceChildren(name);
  // A button's content is presentational, so its name carries what the badge shows.
  card.querySelector('button')?.setAttribute('aria-label', badge ? `${name} (${badge.toLowerCase()})` : name);
}
