import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageDatasetWriter } from '@rxvision/dataset/node';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './run-cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-dashboard-cli-'));
  // 1,500 RGB 16×16 images in three classes, class c brighter in band c of rows.
  const writer = await ImageDatasetWriter.create(join(dir, 'bands.arrow'), {
    classes: ['top', 'middle', 'bottom'],
    shape: [16, 16, 3],
    rows: 1500,
  });
  for (let row = 0; row < 1500; row++) {
    const label = row % 3;
    const image = Uint8Array.from(
      { length: 768 },
      (_, i) => (Math.min(2, Math.floor(i / 256)) === label ? 150 : 40) + ((row * 13 + i * 7) % 60),
    );
    await writer.append(image, label);
  }
  await writer.commit();
  const experiment = {
    seed: 2,
    dataset: { type: 'arrow', train: 'bands.arrow', test: 'bands.arrow' },
    validation: 300,
    batchSize: 25,
    model: { type: 'cnn', blocks: [8, 8] },
    schedule: [{ epochs: 6, learningRate: 0.02 }],
  };
  await writeFile(join(dir, 'bands.json'), JSON.stringify(experiment));
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('train --dashboard', () => {
  test("a real browser sees the run's plotted points grow while it trains", async () => {
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
      const counts: number[] = [];
      let watching: Promise<void> | undefined;
      let finished = false;
      const out = join(dir, 'runs', 'live');
      const result = await runCli(
        ['train', '--config', join(dir, 'bands.json'), '--backend', 'wasm', '--out', out, '--dashboard', '0', '--json'],
        {},
        {
          onStderr: (stderr) => {
            const url = stderr.match(/dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/)?.[1];
            if (!url || watching) return;
            watching = (async () => {
              await page.goto(url);
              const points = page.locator('#chart g.mark-symbol.role-mark path');
              let shot = false;
              while (!finished) {
                const count = await points.count().catch(() => -1);
                if (count >= 0 && count !== counts.at(-1)) counts.push(count);
                if (!shot && count >= 9 && process.env.RXVISION_SCREENSHOTS) {
                  shot = true;
                  await page.screenshot({ path: join(process.env.RXVISION_SCREENSHOTS, 'dashboard-live.png'), fullPage: true });
                }
                await page.waitForTimeout(50);
              }
            })();
          },
        },
      );
      finished = true;
      await watching;
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(await readFile(join(out, 'history.json'), 'utf8'))).toHaveLength(6);
      // Three points an epoch (training loss, validation loss, accuracy), drawn as each epoch was written.
      const growing = counts.filter((count) => count > 0);
      expect(growing.length, `counts seen: ${counts.join(', ')}`).toBeGreaterThanOrEqual(3);
      expect(growing.every((count, i) => count % 3 === 0 && (i === 0 || count > growing[i - 1]!))).toBe(true);
      expect(growing.at(-1)).toBeGreaterThanOrEqual(15);
      expect(await page.locator('#runs tbody tr').first().textContent()).toContain('live');
    } finally {
      await browser.close();
    }
  }, 300_000);

  test('rxvision dashboard serves a folder until Ctrl-C; a bad port fails in one line', async () => {
    let answered: Promise<{ status: number; runs: { name: string }[] }> | undefined;
    const result = await runCli(
      ['dashboard', join(dir, 'runs'), '--port', '0'],
      {},
      {
        onStdout: (stdout, child) => {
          const url = stdout.match(/(http:\/\/127\.0\.0\.1:\d+\/) \(Ctrl-C stops it\)/)?.[1];
          if (!url || answered) return;
          answered = fetch(new URL('/api/runs', url)).then(async (response) => ({
            status: response.status,
            runs: (await response.json()) as { name: string }[],
          }));
          void answered.finally(() => child.kill('SIGINT'));
        },
      },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`dashboard of ${join(dir, 'runs')}: http://127.0.0.1:`);
    const { status, runs } = await answered!;
    expect([status, runs.map((run) => run.name)]).toEqual([200, ['live']]);
    const bad = await runCli(['dashboard', dir, '--port', '70000']);
    expect([bad.code, bad.stderr.trim()]).toEqual([1, 'rxvision: --port must be between 0 and 65535, got "70000"']);
  }, 60_000);
});
