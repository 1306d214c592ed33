type AttributeValue = string | number | boolean | undefined;

/**
 * Builds an element. Attributes that are `undefined` or `false` are left out, `true` sets an empty
 * one; children are appended as nodes or text, so names from the API are never parsed as markup.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, AttributeValue> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  element.append(...children);
  return element;
}

/** A titled list of facts; those without a value are left out. */
export function definitions(heading: string, rows: [string, Node | string | undefined][]): HTMLElement {
  const list = h('dl');
  for (const [term, value] of rows) {
    if (value !== undefined) list.append(h('dt', {}, term), h('dd', {}, value));
  }
  return h('section', { 'aria-label': heading }, h('h3', {}, heading), list);
}
