import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';

/**
 * The demo page at `url` in a new tab, collecting what would mean it broke: uncaught errors and
 * Content Security Policy refusals. Tests end by expecting `problems` to be empty.
 */
export async function openWatchedPage(
  browser: Browser,
  url: string,
  viewport = { width: 1100, height: 800 },
): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport });
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text()))
      problems.push(message.text());
  });
  await page.goto(url);
  return { page, problems };
}

/** Signs the page in as `owner` through its owner form, then waits until it says so. */
export async function signInAs(page: Page, owner: string, timeoutMs: number): Promise<void> {
  await page.getByTestId('owner-input').fill(owner);
  await page.getByTestId('owner-form').getByRole('button', { name: 'Switch' }).click();
  await expect
    .poll(() => page.getByTestId('owner-status').textContent(), { timeout: timeoutMs })
    .toBe(`Signed in as ${owner}.`);
}
