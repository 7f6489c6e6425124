import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli, runCliInterrupted } from './run-cli.js';

const COLOURS = ['red', 'green', 'blue'];
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-multi-label-cli-'));
  // photos/{train,test}/N.png at 8×8 and tags-{train,test}.csv: each of red, green and blue is in a
  // picture or not (at least one), and brightens its channel, with noise. Seeded by the image's number.
  for (const [split, count] of [
    ['train', 192],
    ['test', 48],
  ] as const) {
    await mkdir(join(dir, 'photos', split), { recursive: true });
    const lines = ['image,tags'];
    for (let i = 0; i < count; i++) {
      const shown = COLOURS.filter((_, c) => (((i + (split === 'test' ? 3 : 0)) % 7) + 1) & (1 << c));
      const raw = Buffer.from(
        Array.from({ length: 64 * 3 }, (_, v) => (shown.includes(COLOURS[v % 3]!) ? 130 : 0) + ((v * 37 + i * 101) % 100)),
      );
      await writeFile(
        join(dir, 'photos', split, `${i}.png`),
        await sharp(raw, { raw: { width: 8, height: 8, channels: 3 } })
          .png()
          .toBuffer(),
      );
      lines.push(`${i}.png,${shown.join(' ')}`);
    }
    await writeFile(join(dir, `tags-${split}.csv`), `${lines.join('\n')}\n`);
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const experiment = (overrides: Record<string, unknown> = {}) => ({
  dataset: {
    type: 'image-folder',
    train: 'photos/train',
    labels: 'tags-train.csv',
    test: 'photos/test',
    testLabels: 'tags-test.csv',
    dataDir: 'data',
  },
  validation: 32,
  batchSize: 16,
  model: { type: 'cnn', blocks: [8] },
  augment: [{ type: 'horizontalFlip' }, { type: 'mixup', alpha: 0.4 }],
  schedule: [{ epochs: 6, learningRate: 0.1 }],
  keepBest: { monitor: 'mAP' },
  ...overrides,
});

async function config(name: string, overrides?: Record<string, unknown>): Promise<string> {
  const path = join(dir, `${name}.json`);
  await writeFile(path, JSON.stringify(experiment(overrides)));
  return path;
}

const read = async (folder: string, file: string) => JSON.parse(await readFile(join(folder, file), 'utf8'));
const withoutSeconds = (history: Array<Record<string, unknown>>) => history.map(({ seconds: _seconds, ...row }) => row);

describe('multi-label photos through the CLI', () => {
  test('a folder with a labels CSV trains by sigmoid cross-entropy to a high mean average precision; Ctrl-C and --resume give the same run; evaluate agrees', async () => {
    const file = await config('colours');
    const [straight, run] = [join(dir, 'straight'), join(dir, 'interrupted')];
    const trained = await runCli(['train', '--config', file, '--out', straight, '--backend', 'wasm']);
    expect(trained.code, trained.stderr).toBe(0);
    const history = await read(straight, 'history.json');
    expect(history).toHaveLength(6);
    expect(history.at(-1).metrics.mAP).toBeGreaterThan(0.95);
    expect(history[0].metrics.mAP).toBeLessThan(history.at(-1).metrics.mAP);
    const summary = await read(straight, 'summary.json');
    expect(summary.split).toEqual({ train: 160, validation: 32, test: 48 });
    const best = history.reduce(
      (b: number, row: { metrics: { mAP: number } }, i: number) => (row.metrics.mAP > history[b].metrics.mAP ? i : b),
      0,
    );
    expect(summary.bestEpoch).toBe(best + 1); // keepBest by mAP, higher better
    expect(summary.test.mAP).toBeGreaterThan(0.95);
    // Sigmoid cross-entropy, a mean over classes: ln 2 ≈ 0.69 is a coin toss for each.
    expect(summary.test.loss).toBeLessThan(0.5);
    // Precision and recall by the first label would mislead on label sets: not in the summary.
    expect(Object.keys(summary.test).sort()).toEqual(['accuracy', 'loss', 'mAP']);
    // Nor the test images it gets most wrong, by one true class an image.
    await expect(readFile(join(straight, 'top-losses.json'))).rejects.toThrow('ENOENT');

    const first = await runCliInterrupted(['train', '--config', file, '--out', run, '--backend', 'wasm']);
    expect(first.code, first.stderr).toBe(130);
    expect((await read(join(run, 'checkpoint'), 'checkpoint.json')).position).toMatchObject({ epoch: 2, step: expect.any(Number) });
    const second = await runCli(['train', '--resume', run, '--backend', 'wasm']);
    expect(second.code, second.stderr).toBe(0);
    expect(withoutSeconds(await read(run, 'history.json'))).toEqual(withoutSeconds(history));
    expect((await read(run, 'summary.json')).test).toEqual(summary.test);

    const evaluated = await runCli(['evaluate', '--model', straight, '--backend', 'wasm', '--json']);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const figures = JSON.parse(evaluated.stdout);
    expect(figures).toEqual({ ...summary.test, images: 48 });
  }, 600_000);

  test.each([
    [
      'labelSmoothing',
      { labelSmoothing: 0.1 },
      'labelSmoothing: not for multi-label data (each class is its own yes or no, by sigmoid cross-entropy)',
    ],
    [
      'classWeights',
      { classWeights: 'balanced' },
      'classWeights: not for multi-label data (class counts of label sets are not a softmax weighting)',
    ],
    ['sampler', { sampler: 'balanced' }, 'sampler: not for multi-label data (an image of several classes has no one class to balance by)'],
  ])(
    '%s is refused in one line for multi-label data, and nothing is written',
    async (name, overrides, line) => {
      const file = await config(`refused-${name}`, overrides);
      const out = join(dir, `refused-${name}`);
      const result = await runCli(['train', '--config', file, '--out', out, '--backend', 'wasm']);
      expect([result.code, result.stderr.trim()]).toEqual([1, `rxvision: ${file}: ${line}`]);
      await expect(readFile(join(out, 'history.json'))).rejects.toThrow('ENOENT');
    },
    120_000,
  );

  test('a test folder without its labels CSV is refused in one line', async () => {
    const file = await config('unpaired', { dataset: { ...experiment().dataset, testLabels: undefined } });
    const result = await runCli(['train', '--config', file, '--out', join(dir, 'unpaired'), '--backend', 'wasm']);
    expect([result.code, result.stderr.trim()]).toEqual([
      1,
      `rxvision: ${file}: dataset: labels, testLabels and test go together (a labels CSV for each folder)`,
    ]);
  }, 120_000);
});
