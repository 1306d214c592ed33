import { beforeAll, describe, expect, it } from 'vitest';
import { buildWebAssets, type WebAssets } from '../../local/web/assets.js';

describe('the demo page assets', () => {
  let assets: WebAssets;
  const text = (path: string) => assets.get(path)?.body.toString('utf8') ?? '';

  beforeAll(async () => {
    assets = await buildWebAssets();
  });

  it('serves the page, its bundled script and style sheet, and an icon', () => {
    expect(Object.fromEntries([...assets].map(([path, { contentType }]) => [path, contentType]))).toEqual({
      '/': 'text/html; charset=utf-8',
      '/app.js': 'text/javascript; charset=utf-8',
      '/style.css': 'text/css; charset=utf-8',
      '/favicon.svg': 'image/svg+xml',
    });
    for (const [path, { body }] of assets) expect(body.length, path).toBeGreaterThan(0);
  });

  it('links the page to exactly those files', () => {
    const html = text('/');
    expect(html).toContain('<script type="module" src="/app.js"></script>');
    expect(html).toContain('<link rel="stylesheet" href="/style.css" />');
    expect(html).toContain('href="/favicon.svg"');
  });

  it('bundles Uppy with its S3 POST-policy upload, so nothing is loaded from elsewhere', () => {
    const script = text('/app.js');
    expect(script).toContain('fields.key must be a concrete object key');
    expect(script).toContain('AwsS3');
    expect(script).not.toMatch(/^\s*import\s/m);
  });

  it('is minified', () => {
    const script = text('/app.js');
    expect(script.split('\n').length).toBeLessThan(50);
    expect(text('/style.css')).not.toContain('\n  ');
  });

  it('bakes in no address: the API is the page origin and image URLs come from the API', () => {
    expect(text('/app.js')).not.toMatch(/127\.0\.0\.1|localhost:\d/);
  });

  it('needs nothing a strict CSP forbids: no inline scripts, handlers or styles, no eval', () => {
    const html = text('/');
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    expect(html).not.toMatch(/\sstyle\s*=/i);
    expect(html).not.toMatch(/<style[\s>]/i);
    expect(text('/app.js')).not.toMatch(/\beval\(|new Function\(/);
  });

  it('gives a browser test stable hooks', () => {
    const html = text('/');
    for (const hook of [
      'owner-input',
      'file-input',
      'drop-zone',
      'upload-list',
      'gallery',
      'detail-dialog',
      'delete-button',
      'search-form',
      'search-input',
      'search-chips',
      'colour-filter',
      'search-mode',
    ]) {
      expect(html).toContain(`data-testid="${hook}"`);
    }
    const script = text('/app.js');
    for (const hook of [
      'upload-row',
      'gallery-card',
      'variant-row',
      'variant-bytes',
      'tag-chip',
      'filter-chip',
      'image-content',
      'caption-source',
      'similar-card',
      'near-duplicate',
    ]) {
      expect(script).toContain(hook);
    }
  });
});
