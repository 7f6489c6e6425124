import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './run-cli.js';

let dir: string;
const epochs = (valLoss: number[], valAccuracy: number[]) =>
  valLoss.map((loss, i) => ({
    epoch: i + 1,
    phase: 0,
    learningRate: 0.1,
    trainLoss: loss - 0.1,
    valLoss: loss,
    valAccuracy: valAccuracy[i]!,
    seconds: 10,
  }));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-compare-'));
  for (const [name, history, summary] of [
    ['wide', epochs([2, 1.5, 1, 0.5], [0.15, 0.35, 0.55, 0.75]), { test: { accuracy: 0.71 } }],
    ['narrow', epochs([2, 1, 0.75], [0.3, 0.5, 0.45]), undefined], // still training: no summary
  ] as const) {
    await mkdir(join(dir, name));
    await writeFile(join(dir, name, 'history.json'), JSON.stringify(history));
    if (summary) await writeFile(join(dir, name, 'summary.json'), JSON.stringify(summary));
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('rxvision compare', () => {
  test('draws both runs in one chart and prints their figures side by side', async () => {
    const chart = join(dir, 'charts', 'both.png');
    const result = await runCli(['compare', join(dir, 'wide'), join(dir, 'narrow'), '--out', chart]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^run\s+epochs\s+best val_acc \(epoch\)\s+last val_acc\s+last val_loss\s+test_acc$/);
    expect(lines[1]).toMatch(/^wide\s+4\s+0\.7500 \(4\)\s+0\.7500\s+0\.5000\s+0\.7100$/);
    expect(lines[2]).toMatch(/^narrow\s+3\s+0\.5000 \(2\)\s+0\.4500\s+0\.7500\s+–$/);
    expect(lines[3]).toBe(`wrote ${chart}`);
    const { width, height, format } = await sharp(chart).metadata();
    expect(format).toBe('png');
    expect(width).toBeGreaterThan(height!); // two panels side by side
  });

  test('--json gives the same figures', async () => {
    const result = await runCli(['compare', join(dir, 'wide'), join(dir, 'narrow'), '--out', join(dir, 'c.png'), '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      runs: [
        { run: 'wide', epochs: 4, bestValAccuracy: 0.75, bestEpoch: 4, lastValAccuracy: 0.75, lastValLoss: 0.5, testAccuracy: 0.71 },
        { run: 'narrow', epochs: 3, bestValAccuracy: 0.5, bestEpoch: 2, lastValAccuracy: 0.45, lastValLoss: 0.75 },
      ],
      chart: join(dir, 'c.png'),
    });
  });

  test('a folder without a history, or with a broken one, is named in one line', async () => {
    await mkdir(join(dir, 'broken'));
    await writeFile(join(dir, 'broken', 'history.json'), JSON.stringify([{ epoch: 1, trainLoss: 1 }]));
    for (const [run, problem] of [
      [join(dir, 'missing'), 'no history (not a run folder, or no epoch finished yet)'],
      [join(dir, 'broken'), 'epoch record 1 lacks a number for epoch, trainLoss, valLoss or valAccuracy'],
    ]) {
      const result = await runCli(['compare', join(dir, 'wide'), run!, '--out', join(dir, 'never.png')]);
      expect([result.code, result.stderr.trim()]).toEqual([1, `rxvision: ${join(run!, 'history.json')}: ${problem}`]);
    }
  });
});
