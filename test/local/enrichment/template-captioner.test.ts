import { describe, expect, it } from 'vitest';
import { TemplateCaptioner } from '../../../local/enrichment/template-captioner.js';

const captioner = new TemplateCaptioner();
const jpeg = Buffer.alloc(0);

describe('the template captioner (no vision model offline)', () => {
  it.each([
    [[], 'A photo.'],
    [[{ name: 'person', confidence: 0.6 }], 'A photo with a person.'],
    [
      [
        { name: 'dog', confidence: 0.4 },
        { name: 'person', confidence: 0.7 },
      ],
      'A photo with a person and a dog.',
    ],
    [
      [
        { name: 'umbrella', confidence: 0.3 },
        { name: 'cup', confidence: 0.5 },
        { name: 'person', confidence: 0.9 },
        { name: 'book', confidence: 0.2 },
      ],
      'A photo with a person, a cup and an umbrella.',
    ],
    [[{ name: 'scissors', confidence: 0.5 }], 'A photo with scissors.'],
    [
      [
        { name: 'Bird', confidence: 0.3 },
        { name: 'bird ', confidence: 0.5 },
      ],
      'A photo with a bird.',
    ],
  ])('writes %j as "%s"', async (tags, text) => {
    expect(await captioner.caption(jpeg, tags)).toEqual({ text, source: 'template' });
  });

  it('writes the same caption whatever order the tags come in (ties by name)', async () => {
    const tags = [
      { name: 'cat', confidence: 0.5 },
      { name: 'bed', confidence: 0.5 },
    ];
    const caption = await captioner.caption(jpeg, tags);
    expect(caption.text).toBe('A photo with a bed and a cat.');
    expect(await captioner.caption(jpeg, [...tags].reverse())).toEqual(caption);
  });
});
