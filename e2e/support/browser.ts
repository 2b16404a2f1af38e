// Browser-side helpers shared by the team and pipeline stories: log a page in through a one-time link, surface
// browser errors in the test output, keep screenshots, and check a page at phone width.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, type Page } from '@playwright/test';
import { unnamedControls } from './a11y';
import { REPO } from './hub';
import { loginLink } from './mesh';

export const SHOTS = join(REPO, 'test-results', 'screenshots');

export function screenshots(): (page: Page, name: string, opts?: { fullPage?: boolean }) => Promise<Buffer> {
  mkdirSync(SHOTS, { recursive: true });
  return (page, name, opts = {}) =>
    page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: opts.fullPage ?? false });
}

/** Print the browser's uncaught errors and console errors next to the test's own output. */
export function reportBrowserErrors(page: Page, label = 'browser'): void {
  page.on('pageerror', (err) => console.error(`[${label}] uncaught: ${err.stack ?? err.message}`));
  page.on('console', (m) => {
    // Refused requests are expected in these stories (a revoked link, a used invite); anything else is worth seeing.
    if ((m.type() === 'error' || m.type() === 'warning') && !m.text().startsWith('Failed to load resource'))
      console.error(`[${label} ${m.type()}] ${m.text()}`);
  });
}

/** What a person does with `meshcode dashboard`: open the one-time link and press Continue. */
export async function logIn(page: Page, hubUrl: string, key: string): Promise<void> {
  await page.goto(await loginLink(hubUrl, key));
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page).not.toHaveURL(/\/login/);
}

/** Every control named, and nothing scrolling sideways, at the page's current width. */
export async function expectUsable(page: Page, what: string): Promise<void> {
  expect(await unnamedControls(page), `unnamed controls in ${what}`).toEqual([]);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, `${what} scrolls sideways at ${page.viewportSize()?.width ?? '?'}px`).toBeLessThanOrEqual(1);
}

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };
