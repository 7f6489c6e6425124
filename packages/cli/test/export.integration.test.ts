import { readFile, rm, writeFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { selectBackend } from '@rxvision/backend/node';
import { subset } from '@rxvision/dataset';
import { claimFolder } from '@rxvision/folder';
import { CIFAR10_SOURCE_VARIABLE, openImageDataset, prepareCifar10 } from '@rxvision/dataset/node';
import { readClassifierMetadata } from '@rxvision/onnx';
import { predict } from '@rxvision/train';
import { loadClassifier } from '@rxvision/train/node';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './run-cli.js';

// Acceptance of ONNX export: the tutorial MLP, a CNN and the ResNet, each trained a little on real
// CIFAR-10 (so batch-norm statistics are the data's), give onnxruntime-node the same top-1 class as
// tfjs on 1,000 test images and probabilities within 1e-4, with the preprocessing read from the
// ONNX model's own metadata.
const source = process.env[CIFAR10_SOURCE_VARIABLE];
if (!source) console.warn(`skipping the ONNX export tests on real CIFAR-10: ${CIFAR10_SOURCE_VARIABLE} is not set`);
const experiments = resolve(import.meta.dirname, '../../../experiments');
const TEST_IMAGES = 1000;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-export-'));
  if (source) await prepareCifar10({ source, dataDir: join(dir, 'data') });
  await selectBackend('wasm');
}, 300_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Pixels / 255, then (x − mean) / std per channel: what the metadata says the model takes. */
function preprocess(
  pixels: Uint8Array,
  normalize: { mean: readonly number[]; std: readonly number[] } | undefined,
  channels: number,
): Float32Array {
  return Float32Array.from(pixels, (p, i) =>
    normalize ? (p / 255 - normalize.mean[i % channels]!) / normalize.std[i % channels]! : p / 255,
  );
}

const argmax = (row: ArrayLike<number>) => Array.from(row).reduce((best, v, i, all) => (v > all[best]! ? i : best), 0);

describe.runIf(source)('rxvision export --format onnx', () => {
  test.each([
    ['the tutorial MLP', join(experiments, 'tutorial.json'), []],
    ['a CNN', undefined, ['--batch-size', '64']],
    ['the ResNet', join(experiments, 'cifar10-cnn.json'), ['--batch-size', '64']],
  ] as const)(
    '%s: onnxruntime gives the tfjs top-1 class on 1,000 test images, probabilities within 1e-4',
    async (_name, config, flags) => {
      const run = join(dir, `run-${_name.replace(/\W+/g, '-')}`);
      const file = config ?? join(dir, 'cnn.json');
      if (!config)
        await writeFile(
          file,
          JSON.stringify({
            dataset: { type: 'cifar10' },
            model: { type: 'cnn', blocks: [16, 32, 64] },
            normalize: { mean: [0.49, 0.48, 0.45], std: [0.25, 0.24, 0.26] },
            optimizer: { type: 'sgd', momentum: 0.9 },
            schedule: [{ epochs: 1, learningRate: 0.05 }],
          }),
        );
      const trained = await runCli([
        'train',
        '--config',
        file,
        '--data',
        join(dir, 'data'),
        '--limit',
        '1280',
        '--schedule',
        '1@0.05',
        ...flags,
        '--out',
        run,
      ]);
      expect(trained.code, trained.stderr).toBe(0);
      // The run wrote model.onnx as it finished; export writes it again, to the same bytes.
      const written = await readFile(join(run, 'model.onnx'));
      await rm(join(run, 'model.onnx'));
      const exported = await runCli(['export', run]);
      expect(exported.code, exported.stderr).toBe(0);
      expect(exported.stdout.trim()).toBe(join(run, 'model.onnx'));
      const bytes = await readFile(join(run, 'model.onnx'));
      expect(bytes.equals(written)).toBe(true);

      const metadata = readClassifierMetadata(bytes);
      const test = await openImageDataset(join(dir, 'data', 'test.arrow'));
      const images = subset(
        test,
        Array.from({ length: TEST_IMAGES }, (_, i) => i * 10),
      );
      expect(metadata.classes).toEqual(test.classes);
      expect(metadata.imageShape).toEqual([32, 32, 3]);

      const classifier = await loadClassifier(join(run, 'model'));
      const tfjs = await lastValueFrom(predict(classifier, images).pipe(toArray()));
      classifier.model.dispose();

      const session = await InferenceSession.create(bytes);
      const size = 32 * 32 * 3;
      const input = new Float32Array(TEST_IMAGES * size);
      for (let i = 0; i < TEST_IMAGES; i++) input.set(preprocess(images.image(i) as Uint8Array, metadata.normalize, 3), i * size);
      const { probabilities } = await session.run({ images: new Tensor('float32', input, [TEST_IMAGES, 32, 32, 3]) });
      await session.release();
      const onnx = probabilities!.data as Float32Array;

      let largest = 0;
      let sameTop = 0;
      tfjs.forEach((row, i) => {
        const other = onnx.subarray(i * 10, (i + 1) * 10);
        row.forEach((p, c) => (largest = Math.max(largest, Math.abs(p - other[c]!))));
        if (argmax(row) === argmax(other)) sameTop++;
      });
      expect(largest).toBeLessThanOrEqual(1e-4);
      expect(sameTop).toBe(TEST_IMAGES);
      // Trained, not a constant answer: the model's classes vary over the test images.
      expect(new Set(tfjs.map(argmax)).size).toBeGreaterThan(3);
    },
    600_000,
  );

  test('a run folder another process writes is not written: export waits its turn, as every writer of a run folder does', async () => {
    const run = join(dir, 'run-the-tutorial-MLP');
    const claim = await claimFolder(run, { purpose: 'train' });
    try {
      const held = await runCli(['export', run]);
      expect(held.code, held.stderr).toBe(75);
      const line = held.stderr.trim();
      expect([
        line.startsWith(`rxvision: ${run} is being written by `),
        line.endsWith('; wait for it to finish or stop it'),
        line.includes('\n'),
      ]).toEqual([true, true, false]);
    } finally {
      await claim.release();
    }
    const free = await runCli(['export', run]);
    expect(free.code, free.stderr).toBe(0);
  });

  test('a folder without a trained model, and an unknown format, are one line each', async () => {
    const nowhere = join(dir, 'nowhere');
    const missing = await runCli(['export', nowhere]);
    expect({ code: missing.code, stderr: missing.stderr.trim() }).toEqual({
      code: 1,
      stderr: `rxvision: ${nowhere}: neither a run folder (no model/model.json) nor a classifier saved from code (no model.json); pass the --out folder of rxvision train or the folder saveClassifier wrote`,
    });
    const format = await runCli(['export', nowhere, '--format', 'tflite']);
    expect({ code: format.code, stderr: format.stderr.trim() }).toEqual({
      code: 1,
      stderr: 'rxvision: --format must be one of onnx, got "tflite"',
    });
  });
});
