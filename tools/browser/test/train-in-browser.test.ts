import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { type Dashboard, startDashboard } from '@rxvision/dashboard';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bundleForBrowser } from '../bundle.js';

// The README's in-browser training example, as written: bundled with esbuild, served from its own
// origin, reading a Fashion-MNIST run's training split from a dashboard that allows that origin.
const root = resolve(import.meta.dirname, '../../..');
const cli = join(root, 'packages/cli/bin/rxvision.js');
let dir: string;
let site: Server;
let siteOrigin: string;
let dashboards: Dashboard[] = [];

async function readmeBlock(name: string): Promise<string> {
  const text = await readFile(join(root, 'README.md'), 'utf8');
  const code = new RegExp(`<!-- ${name} -->\\s*\`\`\`js\\n([\\s\\S]*?)\`\`\``).exec(text)?.[1];
  if (!code) throw new Error(`README.md has no ${name} block`);
  return code;
}

const require = createRequire(import.meta.url);
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-browser-'));
  // A run whose experiment names Debian's Fashion-MNIST, prepared into the data folder on first use.
  const experiment = {
    dataset: { type: 'fashion-mnist', dataDir: join(dir, 'data') },
    limit: 600,
    validation: 60,
    model: { type: 'mlp', hidden: [16] },
    schedule: [{ epochs: 1, learningRate: 0.05 }],
  };
  await writeFile(join(dir, 'fashion.json'), JSON.stringify(experiment));
  await promisify(execFile)(
    process.execPath,
    [cli, 'train', '--config', join(dir, 'fashion.json'), '--backend', 'wasm', '--out', join(dir, 'runs', 'fashion')],
    { cwd: dir },
  );

  const siteDir = join(dir, 'site');
  await mkdir(siteDir);
  const { unresolved } = await bundleForBrowser(await readmeBlock('browser-training-example'), { outfile: join(siteDir, 'train.js') });
  expect(unresolved).toEqual([]);
  const wasm = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  for (const file of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'])
    await copyFile(join(wasm, file), join(siteDir, file));
  await writeFile(join(siteDir, 'blank.html'), '<!doctype html><title>another page of the same site</title>');
  await writeFile(
    join(siteDir, 'index.html'),
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>training in the browser</title></head><body><h1>rxvision: a CNN training in this tab</h1><script type="module" src="train.js"></script></body></html>',
  );
  site = createServer((request, response) => {
    const path = join(siteDir, new URL(request.url ?? '/', 'http://site').pathname);
    readFile(path).then(
      (bytes) => response.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(bytes),
      () => response.writeHead(404).end(),
    );
  });
  await new Promise<void>((done) => site.listen(0, '127.0.0.1', done));
  siteOrigin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
}, 300_000);
afterAll(async () => {
  await Promise.all(dashboards.map((d) => d.close()));
  site?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("the README's in-browser training example", () => {
  test('trains a CNN for its steps in headless Chromium on wasm, from the Arrow file the dashboard serves, and its loss falls', async () => {
    const dashboard = await startDashboard({ runsDir: join(dir, 'runs'), port: 0, allowOrigins: [siteOrigin] });
    dashboards.push(dashboard);
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 900, height: 420 } });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`${siteOrigin}/index.html?dashboard=${encodeURIComponent(dashboard.url.replace(/\/$/, ''))}&run=fashion`);
      await page.waitForSelector('body[data-losses]', { timeout: 240_000 });
      const losses = JSON.parse((await page.getAttribute('body', 'data-losses'))!) as number[];
      expect(errors).toEqual([]);
      expect(losses).toHaveLength(64); // 2 epochs of 2,048 images in batches of 64
      const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
      expect(mean(losses.slice(-8))).toBeLessThan(0.75 * mean(losses.slice(0, 8)));
      expect(await page.textContent('p')).toMatch(/^wasm: epoch 2, step 32, training loss \d/);
      if (process.env.RXVISION_SCREENSHOTS) await page.screenshot({ path: join(process.env.RXVISION_SCREENSHOTS, 'train-in-browser.png') });
    } finally {
      await browser.close();
    }
  }, 300_000);

  test("a dashboard that does not allow the page's origin keeps its data from it", async () => {
    const closed = await startDashboard({ runsDir: join(dir, 'runs'), port: 0 });
    dashboards.push(closed);
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      await page.goto(`${siteOrigin}/blank.html`);
      const url = `${closed.url}api/runs/fashion/data/train.arrow`;
      const outcome = await page.evaluate(
        (target) =>
          fetch(target).then(
            (r) => `read ${r.status}`,
            () => 'refused',
          ),
        url,
      );
      expect(outcome).toBe('refused');
      // The same file is there, for the dashboard's own pages and for tools that are not browsers.
      const direct = await fetch(url);
      expect(direct.status).toBe(200);
      expect(
        Buffer.from(await direct.arrayBuffer())
          .subarray(0, 6)
          .toString('latin1'),
      ).toBe('ARROW1');
    } finally {
      await browser.close();
    }
  }, 120_000);
});
