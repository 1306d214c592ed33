import type { DominantColour, EnrichmentView } from './api.js';
import { swatch, tagList } from './chips.js';
import { definitions, h } from './dom.js';
import { captionSource, enrichmentProblem, formatShare } from './format.js';

/**
 * What the enrichment lane learned about an image: caption, tags, dominant colours, moderation, or
 * why it has not (yet). Nothing at all where the deployment does not enrich. Captions and tags are
 * model output: they go in as text, never as markup.
 */
export function imageContent(
  enrichment: EnrichmentView | undefined,
  pickTag: (name: string) => void,
): HTMLElement[] {
  if (!enrichment) return [];
  const { caption, tags = [], colours = [], moderation } = enrichment;
  const done = enrichment.status === 'done';
  const section = definitions('Content', [
    ['Analysis', enrichmentProblem(enrichment)],
    [
      'Caption',
      caption &&
        h(
          'span',
          { 'data-testid': 'caption' },
          h('q', {}, caption.text),
          ' ',
          h(
            'span',
            { class: 'muted', 'data-testid': 'caption-source' },
            `(${captionSource(caption.source)})`,
          ),
        ),
    ],
    ['Tags', tags.length > 0 ? tagList(tags, pickTag) : done ? 'none found' : undefined],
    ['Colours', colours.length > 0 ? colourList(colours) : undefined],
    ['Moderation', moderation && moderationSummary(moderation)],
  ]);
  section.setAttribute('data-testid', 'image-content');
  return [section];
}

/**
 * Says that the owner already has a near-identical image (the same photo re-encoded, resized or
 * slightly cropped), with a button that opens it.
 */
export function nearDuplicateHint(
  nearDuplicateOf: string | undefined,
  open: (imageId: string) => void,
): HTMLElement[] {
  if (!nearDuplicateOf) return [];
  const button = h('button', { type: 'button', class: 'link' }, 'Show it');
  button.addEventListener('click', () => open(nearDuplicateOf));
  return [
    h(
      'p',
      { class: 'hint', 'data-testid': 'near-duplicate', 'data-image-id': nearDuplicateOf },
      'This looks like an image you already have. ',
      button,
    ),
  ];
}

/** Each colour as a swatch, its palette name and its share of the image; the exact colour on hover. */
function colourList(colours: readonly DominantColour[]): HTMLElement {
  return h(
    'ul',
    { class: 'colours' },
    ...colours.map((colour) =>
      h(
        'li',
        { title: colour.hex, 'data-testid': 'colour', 'data-colour': colour.name },
        swatch(colour.hex),
        `${colour.name} ${formatShare(colour.share)}`,
      ),
    ),
  );
}

function moderationSummary({
  labels,
  flagged,
  held,
}: NonNullable<EnrichmentView['moderation']>): HTMLElement {
  const found = labels.map((label) => `${label.name} (${formatShare(label.confidence)})`).join(', ');
  const verdict = held ? 'Flagged and held back' : flagged ? 'Flagged' : 'Not flagged';
  return h(
    'span',
    { class: flagged ? 'error' : undefined, 'data-testid': 'moderation', 'data-flagged': String(flagged) },
    found ? `${verdict}: ${found}` : `${verdict}: nothing found`,
  );
}
