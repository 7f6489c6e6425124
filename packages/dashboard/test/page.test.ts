import { mkdir, mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Dashboard, startDashboard } from '../src/index.js';
import { thumbnailPng } from '@rxvision/plot/node';
import { launchBrowser, writeAtomic, writeRun } from './fixtures.js';

let dir: string;
let dashboard: Dashboard;
let browser: Browser;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-dashboard-page-'));
  await writeRun(dir, 'baseline', 5, { finished: true });
  const wider = await writeRun(dir, 'wider', 4, { seed: 2, finished: true });
  const hourAgo = new Date(Date.now() - 3_600_000);
  await utimes(join(wider, 'history.json'), hourAgo, hourAgo); // baseline is the most recent
  dashboard = await startDashboard({ runsDir: dir, port: 0 });
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await dashboard?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the dashboard page in a real browser', () => {
  test("draws the latest run, then two runs in one chart once the second is ticked; a click shows a run's details", async () => {
    const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(dashboard.url);
    const points = page.locator('#chart g.mark-symbol.role-mark path');
    await expect.poll(() => points.count()).toBe(5 * 3); // baseline: two losses and an accuracy per epoch
    expect(await page.locator('#runs tbody tr').count()).toBe(2);
    // A run's description (a sweep trial's settings) on its name, for telling trials apart.
    expect(await page.locator('#runs').getByRole('cell', { name: 'wider', exact: true }).getAttribute('title')).toBe('run wider');

    await page.getByLabel('compare wider').check();
    await expect.poll(() => page.locator('#chart').getAttribute('data-runs')).toBe('baseline,wider');
    await expect.poll(() => points.count()).toBe((5 + 4) * 3);
    const legend = await page.locator('#chart g.role-legend').first().textContent();
    expect(legend).toContain('baseline');
    expect(legend).toContain('wider');

    await page.locator('#runs').getByRole('cell', { name: 'wider', exact: true }).click();
    await expect.poll(() => page.locator('#details-name').textContent()).toBe('wider');
    expect(await page.locator('#details-classes tr').allTextContents()).toEqual(['cat40.00%', 'dog60.00%']);
    expect(errors).toEqual([]);
  }, 60_000);

  test("shows a sweep's trials as one group, and one tick compares them all", async () => {
    const root = join(dir, 'sweeps');
    await mkdir(join(root, 'momentum'), { recursive: true });
    await writeAtomic(join(root, 'momentum', 'sweep.json'), { source: 'momentum.json', trials: [], states: {} });
    // trial-001 stopped early by the sweep's scheduler (ASHA).
    for (const [trial, seed] of [
      ['trial-000', 1],
      ['trial-001', 2],
      ['trial-002', 3],
    ] as const)
      await writeRun(root, `momentum/${trial}`, 3 + seed, { seed, finished: seed < 3, ...(seed === 2 && { ended: 'scheduler' }) });
    await writeRun(root, 'baseline', 5, { finished: true });
    const sweeps = await startDashboard({ runsDir: root, port: 0 });
    try {
      const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(sweeps.url);
      await expect.poll(() => page.locator('#runs tbody tr').count()).toBe(5);
      expect(await page.locator('#runs tbody tr.sweep').textContent()).toBe(
        'sweep momentum: 3 trials, 2 finished (1 stopped early by its scheduler), 15 epochs trained',
      );
      expect(await page.locator('#runs tbody tr.trial td:nth-child(2)').allTextContents()).toEqual(['trial-000', 'trial-001', 'trial-002']);
      expect(await page.locator('#runs tbody tr.trial td:nth-child(3)').allTextContents()).toEqual([
        'finished',
        'stopped early at epoch 5',
        'unfinished',
      ]);
      await page.getByLabel('compare sweep momentum').check();
      const points = page.locator('#chart g.mark-symbol.role-mark path');
      await expect
        .poll(() => page.locator('#chart').getAttribute('data-runs'))
        .toMatch(/^(?=.*momentum\/trial-000)(?=.*momentum\/trial-001)(?=.*momentum\/trial-002)/);
      await expect.poll(() => points.count()).toBe((4 + 5 + 6 + 5) * 3); // the three trials and the latest run
      await page.getByRole('cell', { name: 'trial-001', exact: true }).click();
      await expect.poll(() => page.locator('#details-name').textContent()).toBe('momentum/trial-001');
      expect(errors).toEqual([]);
    } finally {
      await sweeps.close();
    }
  }, 60_000);

  test.each([1280, 1400, 1920])(
    "at %i px nothing is cut off, and a run's top losses show each image with its classes",
    async (width) => {
      // 12 of the worst test images: 32×32, each a colour of its own.
      const entries = await Promise.all(
        Array.from({ length: 12 }, async (_, i) => ({
          row: 100 + i,
          label: 'cat',
          predicted: 'dog',
          probability: 0.9 - i / 100,
          trueProbability: 0.05,
          loss: 3 - i / 10,
          image: `data:image/png;base64,${(await thumbnailPng(new Uint8Array(32 * 32 * 3).fill(20 * i), [32, 32, 3])).toString('base64')}`,
        })),
      );
      await writeAtomic(join(dir, 'baseline', 'top-losses.json'), entries);
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(dashboard.url);
      await page.getByLabel('compare wider').check();
      await page.locator('#runs').getByRole('cell', { name: 'baseline', exact: true }).click();
      const figures = page.locator('#details-top-losses figure');
      await expect.poll(() => figures.count()).toBe(12);
      await expect
        .poll(() =>
          figures
            .locator('img')
            .evaluateAll((images) => images.every((img) => (img as unknown as { naturalWidth: number }).naturalWidth === 32)),
        )
        .toBe(true);
      expect(await figures.first().locator('figcaption').textContent()).toBe('cat → dog 90.00%, loss 3.00, p(cat) 5.00%');
      // Nothing wider than the window, and every panel inside it: the chart, the details' columns, the top losses.
      const layout = await page.evaluate(() => {
        // Run in the page: its globals, typed here by what is read of them.
        type Box = { left: number; right: number };
        const { document, innerWidth } = globalThis as unknown as {
          document: { documentElement: { scrollWidth: number }; querySelectorAll(s: string): { getBoundingClientRect(): Box }[] };
          innerWidth: number;
        };
        const inside = (selector: string) =>
          [...document.querySelectorAll(selector)].map((element) => {
            const box = element.getBoundingClientRect();
            return { selector, left: Math.round(box.left), right: Math.round(box.right), inside: box.left >= 0 && box.right <= innerWidth };
          });
        return {
          pageWidth: document.documentElement.scrollWidth,
          window: innerWidth,
          boxes: ['#chart svg', '#details .columns > div', '#details-top-losses figure', '#details-settings', 'nav'].flatMap(inside),
        };
      });
      expect(layout.pageWidth).toBeLessThanOrEqual(layout.window);
      expect(layout.boxes.filter((box) => !box.inside)).toEqual([]);
      expect(layout.boxes.length).toBeGreaterThan(14);
      expect(errors).toEqual([]);
      await page.close();
    },
    60_000,
  );
});
