import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Every relative link in README.md and docs/ must lead somewhere: to a file or folder of the repo
 * and, when it names an anchor in a Markdown page, to a heading of that page (GitHub's slugs).
 * External links (a scheme, or `//`) are not followed.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function markdownPages(): string[] {
  const pages = [join(ROOT, 'README.md')];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) pages.push(path);
    }
  };
  walk(join(ROOT, 'docs'));
  return pages;
}

/** The page without fenced code blocks and inline code, where brackets are not links. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** Link targets, `[text](target)` and `![alt](target)`, with an optional title dropped. */
function linkTargets(markdown: string): string[] {
  const targets: string[] = [];
  for (const match of prose(markdown).matchAll(
    /!?\[[^\]]*\]\(\s*(?:<([^>]+)>|([^)\s]+))(?:\s+"[^"]*")?\s*\)/g,
  )) {
    const target = match[1] ?? match[2];
    if (target) targets.push(target);
  }
  return targets;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  const withoutFences = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const [, heading = ''] of withoutFences.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = heading
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

/** Every broken link of one page, as `page: target (why)`. */
function brokenLinks(page: string): string[] {
  const markdown = readFileSync(page, 'utf8');
  const broken: string[] = [];
  for (const target of linkTargets(markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue;
    const [pathPart = '', anchor] = target.split('#', 2);
    const path = decodeURIComponent(pathPart);
    const file = path === '' ? page : resolve(dirname(page), path);
    const where = `${relative(ROOT, page)}: ${target}`;
    if (!file.startsWith(ROOT)) broken.push(`${where} (outside the repository)`);
    else if (!existsSync(file)) broken.push(`${where} (no such file)`);
    else if (anchor && file.endsWith('.md') && statSync(file).isFile()) {
      if (!anchors(readFileSync(file, 'utf8')).has(anchor)) broken.push(`${where} (no such heading)`);
    }
  }
  return broken;
}

describe('documentation links', () => {
  it('finds the pages and their links', () => {
    const pages = markdownPages();
    expect(pages.map((p) => relative(ROOT, p))).toContain('README.md');
    expect(pages.length).toBeGreaterThan(5);
    expect(linkTargets(readFileSync(join(ROOT, 'README.md'), 'utf8')).length).toBeGreaterThan(10);
  });

  it('reads links and anchors as GitHub does', () => {
    expect(linkTargets('[a](x.md) ![b](y.png "t") `[c](not-a-link)` [d](<z w.md>)')).toEqual([
      'x.md',
      'y.png',
      'z w.md',
    ]);
    expect(linkTargets('```sh\n[e](fenced)\n```\n[f](g.md#h)')).toEqual(['g.md#h']);
    expect([...anchors('# `GET /v1/images/{imageId}`\n## What it creates\n## What it creates')]).toEqual([
      'get-v1imagesimageid',
      'what-it-creates',
      'what-it-creates-1',
    ]);
  });

  it('resolves every relative link in README.md and docs/', () => {
    expect(markdownPages().flatMap(brokenLinks)).toEqual([]);
  });
});
