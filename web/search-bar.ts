import type { PaletteColour } from './api.js';
import { filterChip, swatch } from './chips.js';
import { h } from './dom.js';
import { SWATCH_COLOURS, swatchCss } from './palette.js';
import {
  hasFilters,
  NO_FILTERS,
  parseSearchInput,
  type SearchFilters,
  withoutTag,
  withTag,
} from './search-filters.js';

export interface SearchElements {
  form: HTMLFormElement;
  input: HTMLInputElement;
  chips: HTMLElement;
  colours: HTMLElement;
  clear: HTMLButtonElement;
}

/**
 * The gallery's search: words typed in the box, tags as removable chips (typed as `tag:name` or
 * picked from an image), one palette colour. Every change hands the whole set of filters on; no
 * filters at all means the plain listing. The box always shows the words searched for: a change made
 * elsewhere (a chip, a colour) takes whatever the box holds then.
 */
export class SearchBar {
  #filters: SearchFilters = NO_FILTERS;
  readonly #swatches = new Map<PaletteColour, HTMLButtonElement>();

  constructor(
    private readonly elements: SearchElements,
    private readonly onChange: (filters: SearchFilters) => void,
  ) {
    for (const colour of SWATCH_COLOURS) {
      const button = h(
        'button',
        { type: 'button', class: 'swatch-button', title: colour, 'data-colour': colour },
        swatch(swatchCss(colour)),
        h('span', { class: 'visually-hidden' }, colour),
      );
      button.addEventListener('click', () =>
        this.#change((filters) => ({ ...filters, colour: filters.colour === colour ? undefined : colour })),
      );
      this.#swatches.set(colour, button);
      elements.colours.append(button);
    }
    elements.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.#change((filters) => filters);
    });
    elements.clear.addEventListener('click', () => {
      elements.input.value = '';
      this.#change(() => NO_FILTERS);
    });
    this.#paint();
  }

  /** Narrows the gallery to images that also have this tag. */
  addTag(name: string): void {
    this.#change((filters) => withTag(filters, name));
  }

  /** Forgets every filter without searching: a new owner starts from their plain listing. */
  reset(): void {
    this.#filters = NO_FILTERS;
    this.elements.input.value = '';
    this.#paint();
  }

  #change(change: (filters: SearchFilters) => SearchFilters): void {
    const typed = parseSearchInput(this.elements.input.value);
    const current = typed.tags.reduce(withTag, { ...this.#filters, words: typed.words });
    this.#filters = change(current);
    this.elements.input.value = this.#filters.words;
    this.#paint();
    this.onChange(this.#filters);
  }

  #paint(): void {
    const { chips, clear } = this.elements;
    chips.replaceChildren(
      ...this.#filters.tags.map((tag) =>
        filterChip(`tag ${tag}`, () => this.#change((filters) => withoutTag(filters, tag)), {
          'data-testid': 'filter-chip',
          'data-tag': tag,
        }),
      ),
    );
    for (const [colour, button] of this.#swatches) {
      button.setAttribute('aria-pressed', String(this.#filters.colour === colour));
    }
    clear.hidden = !hasFilters(this.#filters);
  }
}
