import type { Tag } from './api.js';
import { h } from './dom.js';
import { formatShare } from './format.js';

/**
 * An image's tags as buttons, most confident first as the API orders them: clicking one narrows the
 * gallery to images with that tag; its confidence shows on hover. Tag names are model output, so
 * they go in as text only.
 */
export function tagList(tags: readonly Tag[], pick: (name: string) => void): HTMLUListElement {
  return h(
    'ul',
    { class: 'chips' },
    ...tags.map((tag) => {
      const button = h(
        'button',
        {
          type: 'button',
          class: 'chip',
          title: `${formatShare(tag.confidence)} confident: show images tagged so`,
          'data-testid': 'tag-chip',
          'data-tag': tag.name,
        },
        tag.name,
      );
      button.addEventListener('click', () => pick(tag.name));
      return h('li', {}, button);
    }),
  );
}

/** A filter in use, and a button that drops it. */
export function filterChip(label: string, remove: () => void, hooks: Record<string, string>): HTMLLIElement {
  const button = h('button', { type: 'button', class: 'remove', 'aria-label': `Remove ${label}` }, '×');
  button.addEventListener('click', remove);
  return h('li', { class: 'chip filter', ...hooks }, h('span', {}, label), button);
}

/**
 * A sample of a colour. Painted through the CSSOM, not a `style` attribute, which the page's
 * Content-Security-Policy (`style-src 'self'`) forbids.
 */
export function swatch(css: string): HTMLSpanElement {
  const sample = h('span', { class: 'swatch', 'aria-hidden': 'true' });
  sample.style.backgroundColor = css;
  return sample;
}
