import type { ChildProcess } from 'node:child_process';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Dashboard, startDashboard } from '@rxvision/dashboard';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { writeGreyBands } from './bands-fixture.js';
import { type CliRun, runCli } from './run-cli.js';
import { waitFor } from './wait-for.js';

// Runs trained by real `rxvision train` processes, none started with --dashboard: the page learns
// where each is from its run folder alone (its writer's claim, progress.json, failure.json).
let dir: string;
let runs: string;
let dashboard: Dashboard;
let browser: Browser;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-dashboard-status-'));
  runs = join(dir, 'runs');
  await mkdir(runs);
  await writeGreyBands(join(dir, 'bands.arrow'), 3000);
  const experiment = {
    dataset: { type: 'arrow', train: 'bands.arrow', test: 'bands.arrow' },
    validation: 300,
    batchSize: 10,
    model: { type: 'mlp', hidden: [64] },
    topK: [2],
    schedule: [
      { epochs: 2, learningRate: 0.02 },
      { epochs: 2, learningRate: 0.005 },
    ],
  };
  await writeFile(join(dir, 'bands.json'), JSON.stringify(experiment));
  await writeFile(join(dir, 'long.json'), JSON.stringify({ ...experiment, schedule: [{ epochs: 40, learningRate: 0.01 }] }));
  dashboard = await startDashboard({ runsDir: runs, port: 0 });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await dashboard?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The run's status cell as the page shows it now ('' while the run is not listed). */
const statusOf = async (page: Page, run: string) =>
  (await page.locator(`#runs tbody tr[data-run="${run}"] td:nth-child(3)`).allTextContents())[0] ?? '';
const train = (config: string, name: string, onSpawn?: (child: ChildProcess) => void): Promise<CliRun> =>
  runCli(
    ['train', '--config', join(dir, config), '--out', join(runs, name), '--backend', 'wasm', '--threads', '1', '--json'],
    {},
    { ...(onSpawn && { onSpawn }) },
  );

test('a run training in another process shows as running, with where it is and the time left, then finished; a killed one as stopped', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(dashboard.url);

  const finishing = train('bands.json', 'other-process');
  await expect
    .poll(() => statusOf(page, 'other-process'), { timeout: 60_000 })
    .toMatch(/^running: epoch [1-4]\/4, step \d+\/270, \d+ samples\/s, \d+ (s|min) left$/);
  expect((await finishing).code).toBe(0);
  await expect.poll(() => statusOf(page, 'other-process'), { timeout: 20_000 }).toBe('finished');

  let child: ChildProcess | undefined;
  const killed = train('long.json', 'killed', (spawned) => (child = spawned));
  // Past its first checkpoint, and shown running: then killed outright, leaving its claim behind.
  await waitFor(
    async () =>
      (await access(join(runs, 'killed', 'checkpoint', 'checkpoint.json')).then(
        () => true,
        () => false,
      ))
        ? true
        : undefined,
    'a checkpoint',
  );
  await expect.poll(() => statusOf(page, 'killed'), { timeout: 20_000 }).toMatch(/^running: /);
  child!.kill('SIGKILL');
  await killed;
  await expect.poll(() => statusOf(page, 'killed'), { timeout: 20_000 }).toBe('stopped (resumable)');
  expect(errors).toEqual([]);
}, 300_000);

test('the learning rate and a top-k metric can be drawn, by name, from the chooser', async () => {
  const page = await browser.newPage({ viewport: { width: 1920, height: 1000 } });
  await page.goto(dashboard.url);
  await expect.poll(() => page.locator('#chart').getAttribute('data-runs')).toBeTruthy(); // the latest run, ticked at first
  for (const box of await page.locator('#runs input:checked').all()) await box.uncheck();
  await page.getByLabel('compare other-process').check();
  const points = page.locator('#chart g.mark-symbol.role-mark path');
  const axes = async () => (await page.locator('#chart g.role-axis').allTextContents()).join(' ');
  await page.locator('#metric').selectOption('learningRate');
  await expect.poll(async () => (await page.locator('#chart g.role-title').allTextContents()).join()).toContain('learningRate');
  await expect.poll(() => points.count()).toBe(4);
  expect(await axes()).toMatch(/0\.020/); // the first phase's rate, on an axis fitted to 0.005–0.02
  if (process.env.RXVISION_SCREENSHOTS)
    await page.screenshot({ path: join(process.env.RXVISION_SCREENSHOTS, 'dashboard-metric.png'), fullPage: true });
  // Per step, from the progress.json the run wrote: 4 epochs of 270 steps, every step kept up to 512 points.
  await page.locator('#metric').selectOption('step:learningRate');
  await expect.poll(async () => (await page.locator('#chart g.role-title').allTextContents()).join()).toContain('learning rate per step');
  expect(await axes()).toMatch(/1,000/); // all 1,080 steps: the run wrote its series whole when it ended
  await page.locator('#metric').selectOption('top2');
  await expect.poll(async () => (await page.locator('#chart g.role-title').allTextContents()).join()).toContain('top2');
  await expect.poll(() => points.count()).toBe(4);
  // No column of the runs table hides behind the chart, at 1,280 px wide as at 1,920.
  for (const width of [1280, 1920]) {
    await page.setViewportSize({ width, height: 1000 });
    const [column, chart] = await Promise.all([
      page.locator('#runs thead th:last-child').boundingBox(),
      page.locator('#chart').boundingBox(),
    ]);
    expect(column!.x + column!.width, `at ${width} px`).toBeLessThanOrEqual(chart!.x);
  }
}, 120_000);

test('a sweep’s settings table shows the settings that differ and sorts by a metric', async () => {
  const base = {
    dataset: { type: 'arrow', train: join(dir, 'bands.arrow'), test: join(dir, 'bands.arrow') },
    validation: 300,
    batchSize: 30,
    model: { type: 'mlp', hidden: [16] },
    optimizer: { type: 'sgd' },
    schedule: [{ epochs: 2, learningRate: 0.01 }],
  };
  await writeFile(join(dir, 'rates.json'), JSON.stringify({ base, grid: { 'optimizer.momentum': [0, 0.5, 0.9] } }));
  const swept = await runCli(['sweep', join(dir, 'rates.json'), '--out', join(runs, 'rates'), '--backend', 'wasm', '--threads', '1']);
  expect(swept.code, swept.stderr).toBe(0);
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(dashboard.url);
  await page.getByLabel('compare sweep rates').check();
  const table = page.locator('#settings');
  await expect.poll(() => table.locator('tbody tr').count()).toBe(3);
  expect(await table.locator('thead th').allTextContents()).toEqual(['run', 'optimizer.momentum', 'last valAccuracy', 'test acc']);
  await table.getByRole('columnheader', { name: 'last valAccuracy' }).click();
  const accuracies = async () => (await table.locator('tbody tr td:nth-child(3)').allTextContents()).map(Number);
  const sorted = await accuracies();
  expect(sorted).toEqual([...sorted].sort((a, b) => b - a));
  if (process.env.RXVISION_SCREENSHOTS)
    await page.screenshot({ path: join(process.env.RXVISION_SCREENSHOTS, 'dashboard-settings.png'), fullPage: true });
  await table.getByRole('columnheader', { name: /last valAccuracy/ }).click(); // again: ascending
  expect(await accuracies()).toEqual([...sorted].reverse());
  // Parallel coordinates of the three trials: a line each, across momentum and on to the figure.
  await expect
    .poll(async () => (await page.locator('#parallel').getAttribute('data-runs'))?.split(',').sort().join())
    .toBe('rates/trial-000,rates/trial-001,rates/trial-002');
  await expect.poll(() => page.locator('#parallel g.mark-line.role-mark path').count()).toBe(3);
  await page.locator('#filter').fill('0.5');
  await expect.poll(() => table.locator('tbody tr').count()).toBe(1);
  expect(await table.locator('tbody tr td:nth-child(2)').textContent()).toBe('0.5');
}, 300_000);
