import '@tensorflow/tfjs-backend-cpu';
import { createRandom, ImageDataset } from '@rxvision/dataset';
import * as tf from '@tensorflow/tfjs-core';
import { concatMap, lastValueFrom, toArray } from 'rxjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { betaSample, cutmixBox, mixPixels, mixTargets, pasteBox } from '../src/mix-batch.js';
import { cutmix, epochBatches, mixup } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const [H, W, C] = [6, 8, 3];
const pixelsOf = (count: number) => Float32Array.from({ length: count * H * W * C }, (_, i) => ((i * 37) % 101) / 100);
const image = H * W * C;

// timm's Mixup (batch mode) written out on copies: x ← λ·x + (1−λ)·x.flip(0); for CutMix,
// x[:, :, yl:yh, xl:xh] = x.flip(0)[:, :, yl:yh, xl:xh], with rand_bbox's box.
describe('the mixing kernels', () => {
  test.each([4, 5])('mixPixels on %i images is λ·x + (1−λ)·flip(x)', (count) => {
    const pixels = pixelsOf(count);
    const copy = pixels.slice();
    mixPixels(pixels, count, 0.3);
    for (let i = 0; i < count; i++)
      for (let k = 0; k < image; k += 7)
        expect(pixels[i * image + k]).toBeCloseTo(0.3 * copy[i * image + k]! + 0.7 * copy[(count - 1 - i) * image + k]!, 6);
  });

  test("cutmixBox has rand_bbox's sides about a drawn centre, cut by the edges; pasteBox swaps the pairs' boxes", () => {
    const lambda = 0.64; // √(1 − λ) = 0.6: a 3×4 box (⌊6·0.6⌋, ⌊8·0.6⌋) before the edges cut it
    for (let seed = 0; seed < 20; seed++) {
      const draw = createRandom(seed);
      const [cy, cx] = [draw.nextInt(H), draw.nextInt(W)];
      const box = cutmixBox([H, W, C], lambda, createRandom(seed));
      expect(box).toEqual({
        top: Math.max(0, cy - 1),
        bottom: Math.min(H, cy + 1),
        left: Math.max(0, cx - 2),
        right: Math.min(W, cx + 2),
      });
    }
    const count = 3;
    const pixels = pixelsOf(count);
    const copy = pixels.slice();
    const box = { top: 1, bottom: 4, left: 2, right: 7 };
    pasteBox(pixels, count, [H, W, C], box);
    for (let i = 0; i < count; i++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          const inside = y >= box.top && y < box.bottom && x >= box.left && x < box.right;
          const from = inside ? count - 1 - i : i;
          expect(pixels[i * image + (y * W + x) * C + 1]).toBe(copy[from * image + (y * W + x) * C + 1]);
        }
  });

  test('mixTargets mixes one-hot rows with the reversed batch, each row summing to 1', () => {
    const targets = Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(Array.from(mixTargets(targets, 3, 0.25))).toEqual([0.25, 0, 0.75, 0, 1, 0, 0.75, 0, 0.25]);
  });

  test('betaSample draws Beta(α, α): mean ½, variance 1 / (4(2α + 1))', () => {
    for (const alpha of [0.4, 1, 2]) {
      const random = createRandom(7);
      const draws = Array.from({ length: 20_000 }, () => betaSample(random, alpha));
      const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
      const variance = draws.reduce((a, b) => a + (b - mean) ** 2, 0) / draws.length;
      expect(mean).toBeCloseTo(0.5, 2);
      expect(variance / (1 / (4 * (2 * alpha + 1)))).toBeGreaterThan(0.96);
      expect(variance / (1 / (4 * (2 * alpha + 1)))).toBeLessThan(1.04);
      expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...draws)).toBeLessThanOrEqual(1);
    }
  });
});

describe('mixup and cutmix in a stream', () => {
  const rows = 24;
  const dataset = ImageDataset.fromArrays(
    {
      classes: ['a', 'b', 'c'],
      shape: [H, W, C],
      pixels: Uint8Array.from({ length: rows * image }, (_, i) => (i * 13) % 256),
      labels: Uint8Array.from({ length: rows }, (_, r) => r % 3),
    },
    'mix',
  );
  const batchesOf = async (transform: 'mixup' | 'cutmix', skip = 0) => {
    const step = (transform === 'mixup' ? mixup : cutmix)({ alpha: 1, classes: 3, seed: 5 });
    const stream = epochBatches(dataset, { batchSize: 6, seed: 1, transforms: [step] })(2, skip);
    const batches = await lastValueFrom(
      stream.pipe(
        concatMap((pending) => pending),
        toArray(),
      ),
    );
    return batches.map((batch) => {
      const figures = { xs: Array.from(batch.xs.dataSync()), ys: Array.from(batch.ys.dataSync()), shape: batch.ys.shape };
      batch.dispose();
      return figures;
    });
  };

  test.each(['mixup', 'cutmix'] as const)(
    '%s: soft targets [n, classes] summing to 1, the same draws after a resume',
    async (transform) => {
      const batches = await batchesOf(transform);
      for (const { ys, shape } of batches) {
        expect(shape).toEqual([6, 3]);
        for (let i = 0; i < 6; i++) expect(ys[i * 3]! + ys[i * 3 + 1]! + ys[i * 3 + 2]!).toBeCloseTo(1, 6);
      }
      // Mixed: some target is neither 0 nor 1.
      expect(batches.flatMap((b) => b.ys).some((y) => y > 0.01 && y < 0.99)).toBe(true);
      // Drawn from (seed, epoch, batch index): the epoch resumed at its third batch sees the same batches.
      expect(await batchesOf(transform, 2)).toEqual(batches.slice(2));
    },
  );

  test('a bad alpha or class count is one line', () => {
    expect(() => mixup({ alpha: 0, classes: 3, seed: 1 })).toThrow('mixup: alpha must be above 0, got 0');
    expect(() => cutmix({ alpha: 1, classes: 1, seed: 1 })).toThrow('cutmix: classes must be an integer of at least 2, got 1');
  });
});
