import { type ImageView, isAbort } from './api.js';
import { createCard, markCardUnavailable, paintCard } from './card.js';
import { searchMode } from './format.js';
import type { Session } from './identity.js';
import { hasFilters, type SearchFilters } from './search-filters.js';

export interface GalleryElements {
  grid: HTMLElement;
  more: HTMLButtonElement;
  status: HTMLElement;
  /** Says how a search's words were matched. */
  mode: HTMLElement;
}

export interface GalleryActions {
  open(imageId: string): void;
  /** A tag on a card was clicked. */
  pickTag(name: string): void;
}

/**
 * The owner's images, a page at a time: either all of them (a page of links, each card then painted
 * from its own image view) or those a search finds (views in the answer, painted at once). Cards are
 * keyed by image id, so an image refreshed after an upload is never shown twice.
 */
export class Gallery {
  readonly #cards = new Map<string, HTMLLIElement>();
  #session: Session | undefined;
  /** The search shown, if any. */
  #filters: SearchFilters | undefined;
  #cursor: string | undefined;
  /** Bumped by every new listing or search, so a late page of an earlier one is dropped. */
  #generation = 0;

  constructor(
    private readonly elements: GalleryElements,
    private readonly actions: GalleryActions,
  ) {
    elements.more.addEventListener('click', () => void this.#loadPage(this.#generation));
  }

  /** Empties the gallery and fills it with the session owner's first page. */
  async load(session: Session): Promise<void> {
    this.#session = session;
    await this.#start(undefined, `Loading the images of ${session.owner}…`);
  }

  /** Shows the owner's images that match, or all of them when there is nothing to search by. */
  async search(filters: SearchFilters): Promise<void> {
    const session = this.#requireSession();
    if (!hasFilters(filters)) return this.load(session);
    await this.#start(filters, 'Searching…');
  }

  /**
   * Reads the image's view and paints its card. The listing puts a card it has not shown yet first
   * (a new upload); a search shows only what it found.
   */
  async refresh(imageId: string): Promise<ImageView> {
    const session = this.#requireSession();
    let card = this.#cards.get(imageId);
    if (!card && !this.#filters) {
      card = this.#addCard(imageId, undefined, 'first');
      this.#showCount();
    }
    try {
      const image = await session.api.getImage(imageId);
      if (card) this.#paint(card, image);
      return image;
    } catch (error) {
      if (card && !isAbort(error)) markCardUnavailable(card);
      throw error;
    }
  }

  remove(imageId: string): void {
    this.#cards.get(imageId)?.remove();
    this.#cards.delete(imageId);
    this.#showCount();
  }

  async #start(filters: SearchFilters | undefined, status: string): Promise<void> {
    this.#generation += 1;
    this.#filters = filters;
    this.#cursor = undefined;
    this.#cards.clear();
    this.elements.grid.replaceChildren();
    this.elements.more.hidden = true;
    this.elements.mode.textContent = '';
    this.elements.status.textContent = status;
    await this.#loadPage(this.#generation);
  }

  async #loadPage(generation: number): Promise<void> {
    const session = this.#requireSession();
    const filters = this.#filters;
    const { more, status } = this.elements;
    more.disabled = true;
    try {
      if (filters) {
        const page = await session.api.search(filters, this.#cursor);
        if (generation !== this.#generation) return;
        for (const image of page.items) {
          if (!this.#cards.has(image.imageId))
            this.#paint(this.#addCard(image.imageId, image.filename), image);
        }
        this.#cursor = page.cursor;
        this.elements.mode.textContent = searchMode(filters.words, page.semantic);
      } else {
        const page = await session.api.listImages(this.#cursor);
        if (generation !== this.#generation) return;
        for (const link of page.items) {
          if (this.#cards.has(link.imageId)) continue;
          this.#addCard(link.imageId, link.filename);
          // A card that cannot be read says so itself; the rest of the page still loads.
          this.refresh(link.imageId).catch(() => {});
        }
        this.#cursor = page.cursor;
      }
      more.hidden = this.#cursor === undefined;
      this.#showCount();
    } catch (error) {
      if (isAbort(error) || generation !== this.#generation) return;
      const what = filters ? 'search your images' : 'list your images';
      status.textContent = `Could not ${what}: ${(error as Error).message}`;
    } finally {
      more.disabled = false;
    }
  }

  #addCard(imageId: string, filename: string | undefined, where: 'first' | 'last' = 'last'): HTMLLIElement {
    const card = createCard(imageId, filename, () => this.actions.open(imageId));
    this.#cards.set(imageId, card);
    if (where === 'first') this.elements.grid.prepend(card);
    else this.elements.grid.append(card);
    return card;
  }

  #paint(card: HTMLLIElement, image: ImageView): void {
    paintCard(card, image, (name) => this.actions.pickTag(name));
  }

  #showCount(): void {
    const count = this.#cards.size;
    const more = this.#cursor ? ' and more' : '';
    const images = count === 1 && !more ? 'image' : 'images';
    if (this.#filters) {
      this.elements.status.textContent =
        count === 0 ? 'No images match.' : `${count}${more} matching ${images}.`;
      return;
    }
    const owner = this.#session?.owner;
    this.elements.status.textContent =
      count === 0 ? `${owner} has no images yet.` : `${owner} has ${count}${more} ${images}.`;
  }

  #requireSession(): Session {
    if (!this.#session) throw new Error('the gallery has no owner yet');
    return this.#session;
  }
}
