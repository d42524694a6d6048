// What every browser test shares: Chromium with a fresh profile per page
// that records page errors and CSP violations, waiting for client-side
// navigations, axe-core, and screenshots at 1280 and 360 px (light and dark)
// in test-artifacts/screenshots/.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { repoRoot } from './harness.mjs';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const shots = join(repoRoot, 'test-artifacts/screenshots');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Page errors and CSP violations seen so far (a test asserts it stays empty). */
export const problems = [];
/** Every page opened, for failure screenshots. */
export const openPages = [];
let browser;

/** Launches Debian's Chromium and makes the screenshot directory. */
export async function launchBrowser() {
  mkdirSync(shots, { recursive: true });
  writeFileSync(join(repoRoot, 'test-artifacts/.gitignore'), '*\n');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  return browser;
}

export async function closeBrowser() {
  await browser?.close();
}

/** Records what a page (or a popup of it) does wrong. */
export function watch(page) {
  openPages.push(page);
  page.on('pageerror', (e) => problems.push(`page error on ${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) problems.push(`CSP violation on ${page.url()}: ${m.text()}`);
  });
}

/** A fresh browser profile that records page errors and CSP violations. */
export async function newPage() {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  watch(page);
  return { context, page };
}

/** Waits until the app shows `path` (client-side navigations fire no load event). */
export async function atPath(page, path, timeoutMs = 20_000) {
  // Polled from here: waitForFunction would need 'unsafe-eval', which the CSP refuses.
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const u = new URL(page.url());
    if (typeof path === 'string' ? u.pathname + u.search === path : path.test(u.pathname)) return;
    if (Date.now() > deadline) throw new Error(`expected to be at ${path}, still at ${page.url()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** axe-core in the page: no serious or critical violation. */
export async function checkA11y(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
  });
  assert.deepEqual(result, [], `accessibility violations on ${name}`);
}

/** Screenshots at desktop and phone width (no sideways scrolling), then axe, light and dark. */
export async function capture(page, name) {
  // From the top, so the sticky header is not painted in the middle of a full-page shot.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: join(shots, `${name}-1280.png`), fullPage: true });
  await page.setViewportSize({ width: 360, height: 780 });
  await page.waitForTimeout(150); // let resize observers redraw
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 1) {
    const wide = await page.evaluate(() =>
      [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-wrap'))
        .slice(0, 5)
        .map((e) => `${e.tagName.toLowerCase()}.${e.className}`),
    );
    assert.fail(`${name} scrolls sideways at 360 px (${overflow}px too wide): ${wide.join(', ')}`);
  }
  await page.screenshot({ path: join(shots, `${name}-360.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  await checkA11y(page, name);
  // Dark mode: its own screenshot, and axe again (contrast differs).
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.waitForTimeout(150); // the chart redraws in dark colours
  await page.screenshot({ path: join(shots, `${name}-dark-1280.png`), fullPage: true });
  await checkA11y(page, `${name} (dark)`);
  await page.emulateMedia({ colorScheme: 'light' });
}

/** Screenshots of every open page and the server log's tail, for whoever debugs a failure. */
export async function failureReport(prefix, server) {
  for (const [i, p] of openPages.entries()) {
    await p.screenshot({ path: join(shots, `${prefix}-${i}.png`), fullPage: true }).catch(() => {});
    console.error(`page ${i} was at ${p.url()}`);
  }
  if (server) console.error(`server log (tail):\n${server.log().split('\n').slice(-40).join('\n')}`);
}
