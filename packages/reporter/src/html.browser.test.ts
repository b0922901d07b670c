import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { fakeRuns, XSS_ERROR, XSS_LABEL } from './__tests__/fake_runs.js';
import { renderHtml, reportPlots } from './index.js';

// Debian's chromium (CI: apt-get install -y chromium); CHROMIUM_PATH overrides. The temp dir with
// the page and its screenshots is removed afterwards unless SQUASH_KEEP_SCREENSHOT=1.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const haveChromium = existsSync(CHROMIUM);

declare global {
  interface Window {
    __pwned?: number;
  }
}

describe.skipIf(!haveChromium)('renderHtml in headless Chromium', () => {
  const runs = fakeRuns({ seeds: 3, label: XSS_LABEL, error: XSS_ERROR });
  const plotIds = reportPlots(runs)
    .filter((p) => p.svg)
    .map((p) => p.id);
  let dir: string;
  let url: string;
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  const requests: string[] = [];
  const dialogs: string[] = [];
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'squash-report-'));
    const file = join(dir, 'report.html');
    url = pathToFileURL(file).href;
    writeFileSync(file, renderHtml('seed-mnist <i>"x"</i>', runs));
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
    page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('request', (r) => requests.push(r.url()));
    page.on('dialog', (d) => (dialogs.push(d.message()), void d.dismiss()));
    await page.addInitScript(() => {
      window.__pwned = 0;
    });
    await page.goto(url, { waitUntil: 'load' });
  });

  afterAll(async () => {
    await browser?.close();
    if (dir && process.env.SQUASH_KEEP_SCREENSHOT !== '1') rmSync(dir, { recursive: true, force: true });
  });

  it('loads with no console or page errors and requests nothing but itself', () => {
    expect(consoleErrors).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(requests).toEqual([url]);
  });

  it('draws every plot: an svg of real size with visible marks', async () => {
    expect(plotIds).toEqual([
      'acc-bytes',
      'acc-weight-bits',
      'acc-retention',
      'acc-clip',
      'acc-activation-bits',
      'layer-sizes',
      'sensitivity-prune-weights',
    ]);
    for (const id of plotIds) {
      const box = await page.locator(`svg.plot#${id}`).boundingBox();
      expect(box && box.width > 300 && box.height > 200, id).toBe(true);
      const marks = await page.$$eval(
        `svg.plot#${id} :is(path.series, circle.mark, rect.bar)`,
        (els) => els.map((e) => (e as SVGGraphicsElement).getBBox()).filter((b) => b.width > 0 || b.height > 0).length,
      );
      expect(marks, id).toBeGreaterThan(0);
      const ticks = await page.locator(`svg.plot#${id} text.tick`).count();
      expect(ticks, id).toBeGreaterThanOrEqual(4);
    }
    expect(await page.locator('svg.plot path, svg.plot circle').count()).toBeGreaterThan(100);
  });

  it('shows hostile strings as text and runs none of them', async () => {
    expect(await page.evaluate(() => window.__pwned)).toBe(0);
    expect(dialogs).toEqual([]);
    expect(await page.locator('script, img, table b, table i').count()).toBe(0);
    expect(await page.locator('table.runs td', { hasText: XSS_LABEL }).count()).toBe(3);
    expect(await page.locator('pre.error', { hasText: XSS_ERROR }).count()).toBeGreaterThan(0);
    expect(await page.title()).toBe('Squash report: seed-mnist <i>"x"</i>');
    expect(await page.locator('h1').textContent()).toBe('Squash report: seed-mnist <i>"x"</i>');
    expect(await page.locator('table.runs tr.front').count()).toBeGreaterThan(0);
  });

  it('takes a screenshot', async () => {
    const png = join(dir, 'report.png');
    await page.screenshot({ path: png, fullPage: true });
    expect(statSync(png).size).toBeGreaterThan(10 * 1024);
    const top = join(dir, 'report-top.png'); // the first screen at full resolution, to look at
    await page.screenshot({ path: top });
    expect(statSync(top).size).toBeGreaterThan(10 * 1024);
    if (process.env.SQUASH_KEEP_SCREENSHOT === '1') console.log(`screenshots: ${png}, ${top}`);
  });
});

if (!haveChromium)
  it.skip(`renderHtml in headless Chromium: skipped, no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`, () => {});
