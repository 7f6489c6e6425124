import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '@rxvision/backend/node';
import { type Dashboard, startDashboard } from '@rxvision/dashboard';
import { subset } from '@rxvision/dataset';
import { openImageDataset } from '@rxvision/dataset/node';
import { predict } from '@rxvision/train';
import { loadClassifier } from '@rxvision/train/node';
import { chromium } from 'playwright-core';
import { lastValueFrom, toArray } from 'rxjs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './run-cli.js';

// The dashboard's classify page, in headless Chromium: a run trained here on Debian's Fashion-MNIST
// classifies real test images in the browser (onnxruntime-web on its model.onnx) as tfjs does in Node.
let dir: string;
let dashboard: Dashboard;
const runs = () => join(dir, 'runs');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-classify-'));
  const experiment = {
    seed: 3,
    dataset: { type: 'fashion-mnist', dataDir: join(dir, 'data') },
    limit: 6000,
    validation: 600,
    batchSize: 64,
    model: { type: 'mlp', hidden: [128] },
    normalize: { mean: [0.286], std: [0.353] },
    optimizer: { type: 'adam' },
    schedule: [{ epochs: 3, learningRate: 0.003 }],
  };
  await writeFile(join(dir, 'fashion.json'), JSON.stringify(experiment));
  const trained = await runCli(['train', '--config', join(dir, 'fashion.json'), '--out', join(runs(), 'fashion')]);
  expect(trained.code, trained.stderr).toBe(0);
  await mkdir(join(runs(), 'untrained'), { recursive: true });
  await writeFile(join(runs(), 'untrained', 'experiment.json'), JSON.stringify(experiment));
  dashboard = await startDashboard({ runsDir: runs(), port: 0 });
}, 600_000);
afterAll(async () => {
  await dashboard?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the classify page', () => {
  test('gives the class tfjs gives, the true one, for real test images of a trained run, computed in the browser', async () => {
    // Test images the model gets right in Node (tfjs), saved as the PNGs a person would drop.
    await selectBackend('wasm');
    const test = await openImageDataset(join(dir, 'data', 'test.arrow'));
    const first = subset(
      test,
      Array.from({ length: 60 }, (_, i) => i),
    );
    const classifier = await loadClassifier(join(runs(), 'fashion', 'model'));
    const rows = await lastValueFrom(predict(classifier, first).pipe(toArray()));
    classifier.model.dispose();
    const argmax = (row: Float32Array) => row.indexOf(Math.max(...row));
    const right = rows.flatMap((row, i) => (argmax(row) === first.label(i) ? [i] : []));
    expect(right.length).toBeGreaterThan(40); // trained: well above chance (6 of 60)
    const chosen = [...new Set(right.map((i) => first.label(i)))].map((label) => right.find((i) => first.label(i) === label)!).slice(0, 8);
    expect(chosen.length).toBeGreaterThanOrEqual(6); // images of six classes or more
    const files = await Promise.all(
      chosen.map(async (i) => {
        const path = join(dir, `test-${i}-${test.classes[first.label(i)]!.replace(/\W+/g, '-')}.png`);
        await sharp(Buffer.from(first.image(i) as Uint8Array), { raw: { width: 28, height: 28, channels: 1 } })
          .png()
          .toFile(path);
        return path;
      }),
    );

    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`${dashboard.url}classify.html?run=fashion`);
      await page.waitForSelector('body[data-ready]', { timeout: 120_000 });
      expect(await page.getAttribute('body', 'data-ready'), (await page.textContent('#status')) ?? '').toBe('true');
      expect(await page.getAttribute('#status', 'data-device')).toMatch(/^(WebGPU|wasm)$/);
      await page.setInputFiles('#pick', files);
      await page.waitForSelector(`#results[data-count="${files.length}"]`, { timeout: 60_000 });
      const answers = await page.$$eval('#results li', (items) =>
        items.map((li) => [li.getAttribute('data-file'), li.getAttribute('data-top')]),
      );
      const expected = chosen.map((i, k) => [files[k]!.split('/').at(-1), test.classes[first.label(i)]]);
      expect(Object.fromEntries(answers)).toEqual(Object.fromEntries(expected));
      // Dropped rather than picked: the first image again, through the drop zone's handler.
      const dropped = { name: `dropped-${files[0]!.split('/').at(-1)}`, bytes: [...(await readFile(files[0]!))] };
      // A string, run in the page: this test's types have no DOM.
      const transfer = await page.evaluateHandle(`(() => {
        const data = new DataTransfer();
        data.items.add(new File([new Uint8Array(${JSON.stringify(dropped.bytes)})], ${JSON.stringify(dropped.name)}, { type: 'image/png' }));
        return data;
      })()`);
      await page.dispatchEvent('#drop', 'drop', { dataTransfer: transfer });
      await page.waitForSelector(`#results[data-count="${files.length + 1}"]`, { timeout: 60_000 });
      expect(await page.getAttribute(`#results li[data-file="${dropped.name}"]`, 'data-top')).toBe(expected[0]![1]);
      expect(errors).toEqual([]);
      if (process.env.RXVISION_SCREENSHOTS)
        await page.screenshot({ path: join(process.env.RXVISION_SCREENSHOTS, 'classify.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  }, 300_000);

  test('a run without an exported model says so, in one line, on the page', async () => {
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      await page.goto(`${dashboard.url}classify.html?run=untrained`);
      await page.waitForSelector('body[data-ready="failed"]', { timeout: 60_000 });
      expect(await page.textContent('#status')).toBe(
        'cannot classify with untrained: untrained has no model.onnx: a run writes it when it finishes; rxvision export RUN writes it for a run made before',
      );
    } finally {
      await browser.close();
    }
  }, 120_000);
});
