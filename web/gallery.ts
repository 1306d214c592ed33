import { type ImageView, isAbort } from './api.js';
import { createCard, markCardUnavailable, paintCard } from './card.js';
import type { Session } from './identity.js';

export interface GalleryElements {
  grid: HTMLElement;
  more: HTMLButtonElement;
  status: HTMLElement;
}

/**
 * The owner's images, a page of links at a time, each card then painted from its own image view.
 * Cards are keyed by image id, so an image refreshed after an upload is never shown twice.
 */
export class Gallery {
  readonly #cards = new Map<string, HTMLLIElement>();
  #session: Session | undefined;
  #cursor: string | undefined;

  constructor(
    private readonly elements: GalleryElements,
    private readonly open: (imageId: string) => void,
  ) {
    elements.more.addEventListener('click', () => void this.#loadPage());
  }

  /** Empties the gallery and fills it with the session owner's first page. */
  async load(session: Session): Promise<void> {
    this.#session = session;
    this.#cursor = undefined;
    this.#cards.clear();
    this.elements.grid.replaceChildren();
    this.elements.more.hidden = true;
    this.elements.status.textContent = `Loading the images of ${session.owner}…`;
    await this.#loadPage();
  }

  /** Reads the image's view and paints its card, putting the card first if the gallery has none. */
  async refresh(imageId: string): Promise<ImageView> {
    const session = this.#requireSession();
    let card = this.#cards.get(imageId);
    if (!card) {
      card = this.#addCard(imageId, undefined, 'first');
      this.#showCount();
    }
    try {
      const image = await session.api.getImage(imageId);
      paintCard(card, image);
      return image;
    } catch (error) {
      if (!isAbort(error)) markCardUnavailable(card);
      throw error;
    }
  }

  remove(imageId: string): void {
    this.#cards.get(imageId)?.remove();
    this.#cards.delete(imageId);
    this.#showCount();
  }

  async #loadPage(): Promise<void> {
    const session = this.#requireSession();
    const { more, status } = this.elements;
    more.disabled = true;
    try {
      const page = await session.api.listImages(this.#cursor);
      for (const link of page.items) {
        if (this.#cards.has(link.imageId)) continue;
        this.#addCard(link.imageId, link.filename, 'last');
        // A card that cannot be read says so itself; the rest of the page still loads.
        this.refresh(link.imageId).catch(() => {});
      }
      this.#cursor = page.cursor;
      more.hidden = page.cursor === undefined;
      this.#showCount();
    } catch (error) {
      if (!isAbort(error)) status.textContent = `Could not list your images: ${(error as Error).message}`;
    } finally {
      more.disabled = false;
    }
  }

  #addCard(imageId: string, filename: string | undefined, where: 'first' | 'last'): HTMLLIElement {
    const card = createCard(imageId, filename, () => this.open(imageId));
    this.#cards.set(imageId, card);
    if (where === 'first') this.elements.grid.prepend(card);
    else this.elements.grid.append(card);
    return card;
  }

  #showCount(): void {
    const count = this.#cards.size;
    const owner = this.#session?.owner;
    const more = this.#cursor ? ' and more' : '';
    this.elements.status.textContent =
      count === 0
        ? `${owner} has no images yet.`
        : `${owner} has ${count}${more} ${count === 1 ? 'image' : 'images'}.`;
  }

  #requireSession(): Session {
    if (!this.#session) throw new Error('the gallery has no owner yet');
    return this.#session;
  }
}
