import '@tensorflow/tfjs-backend-cpu';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageDatasetWriter } from '@rxvision/dataset/node';
import * as tf from '@tensorflow/tfjs-core';
import { applyAugmentOp, randAugmentDraws, randAugmentSpace, trivialAugmentDraw, trivialAugmentSpace } from '@rxvision/stream';
import { concatMap, lastValueFrom, take, toArray } from 'rxjs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { composeExperiment, parseExperiment } from '../src/index.js';

let dir: string;
const ROWS = 100;
/** Row r is class 1 ("rare") for one row in ten: 90 of one class, 10 of the other. */
const labelOf = (row: number) => (row % 10 === 0 ? 1 : 0);

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'rxvision-class-weights-'));
  const writer = await ImageDatasetWriter.create(join(dir, 'train.arrow'), { classes: ['common', 'rare'], shape: [2, 2, 1], rows: ROWS });
  for (let row = 0; row < ROWS; row++) await writer.append(Uint8Array.from([row, row, row, row]), labelOf(row));
  await writer.commit();
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const experiment = (classWeights: unknown, augment: unknown[] = [], sampler?: string) =>
  parseExperiment(
    {
      dataset: { type: 'arrow', train: 'train.arrow' },
      validation: 20,
      batchSize: 16,
      model: { type: 'mlp', hidden: [4] },
      schedule: [{ epochs: 1, learningRate: 0.1 }],
      classWeights,
      augment,
      ...(sampler && { sampler }),
    },
    'weights.json',
  );

/** The composed loss on one batch (a sample of each class), against the plain loss with `weights`. */
async function lossWith(classWeights: unknown) {
  const composed = await composeExperiment(experiment(classWeights), { baseDir: dir, source: 'weights.json' });
  try {
    const counts = [0, 0];
    for (let row = 0; row < composed.train.length; row++) counts[composed.train.label(row)]!++;
    const targets = tf.oneHot([0, 1, 0], 2);
    const logits = tf.tensor2d([
      [1, 0],
      [1, 0],
      [0, 2],
    ]);
    return { counts, loss: composed.fitOptions.loss!(targets, logits).dataSync()[0]!, targets, logits };
  } finally {
    await composed.close();
  }
}

test("classWeights: 'balanced' weighs each class by the training split's counts; a list is used as it is", async () => {
  const { counts, loss, targets, logits } = await lossWith('balanced');
  expect(counts[0]! + counts[1]!).toBe(80);
  expect(counts[1]).toBeGreaterThan(0);
  const balanced = [80 / (2 * counts[0]!), 80 / (2 * counts[1]!)];
  // The same figure as the loss given those weights by hand: Σ w[y]·ℓ / Σ w[y].
  const each = tf.losses.softmaxCrossEntropy(targets, logits, undefined, 0, tf.Reduction.NONE).dataSync();
  const expected = (balanced[0]! * (each[0]! + each[2]!) + balanced[1]! * each[1]!) / (2 * balanced[0]! + balanced[1]!);
  expect(loss).toBeCloseTo(expected, 6);
  expect((await lossWith([1, 1])).loss).toBeCloseTo((each[0]! + each[1]! + each[2]!) / 3, 6);
  await expect(lossWith([1, 2, 3])).rejects.toThrow("weights.json: classWeights: 3 weights for the dataset's 2 classes");
});

test.each(['mixup', 'cutmix'])('augment %s: training batches carry soft targets, validation batches the labels', async (type) => {
  const composed = await composeExperiment(experiment(undefined, [{ type }]), { baseDir: dir, source: 'weights.json' });
  try {
    const [trainBatch] = await lastValueFrom(
      composed.fitOptions.trainBatches(0, 0).pipe(
        concatMap((pending) => pending),
        take(1),
        toArray(),
      ),
    );
    expect(trainBatch!.ys.shape).toEqual([16, 2]);
    expect(trainBatch!.ys.dtype).toBe('float32');
    const sums = tf.sum(trainBatch!.ys, 1).dataSync();
    sums.forEach((sum) => expect(sum).toBeCloseTo(1, 6));
    trainBatch!.dispose();
    const [validationBatch] = await lastValueFrom(
      composed.fitOptions.validationBatches!().pipe(
        concatMap((pending) => pending),
        take(1),
        toArray(),
      ),
    );
    expect(validationBatch!.ys.dtype).toBe('int32');
    validationBatch!.dispose();
  } finally {
    await composed.close();
  }
});

test("sampler: 'balanced' draws each class about as often in an epoch, where the split holds one in nine", async () => {
  const composed = await composeExperiment(experiment(undefined, [], 'balanced'), { baseDir: dir, source: 'weights.json' });
  try {
    const batches = await lastValueFrom(
      composed.fitOptions.trainBatches(0, 0).pipe(
        concatMap((pending) => pending),
        toArray(),
      ),
    );
    const labels = batches.flatMap((batch) => Array.from(batch.labels));
    batches.forEach((batch) => batch.dispose());
    expect(labels).toHaveLength(composed.train.length);
    const rare = labels.filter((label) => label === 1).length;
    // Binomial(80, ½): 40 ± 4.5; shuffled it would be the split's 8 or so.
    expect(Math.abs(rare - 40)).toBeLessThan(18);
  } finally {
    await composed.close();
  }
});

test('augment colorJitter, randomRotation, trivialAugment and randAugment: the file’s settings reach the kernels', async () => {
  // Images whose four pixels differ: 2×2, one channel.
  const writer = await ImageDatasetWriter.create(join(dir, 'pattern.arrow'), { classes: ['a', 'b'], shape: [2, 2, 1], rows: 40 });
  for (let row = 0; row < 40; row++)
    await writer.append(
      Uint8Array.from([0, 1, 2, 3], (p) => 10 + 4 * row + p),
      row % 2,
    );
  await writer.commit();
  /** The first training batch's pixels under `augment`. */
  const firstBatch = async (augment: unknown[]) => {
    const file = { ...experiment(undefined, augment), dataset: { type: 'arrow' as const, train: 'pattern.arrow' }, validation: 8 };
    const composed = await composeExperiment(file, { baseDir: dir, source: 'pattern.json' });
    try {
      const [batch] = await lastValueFrom(
        composed.fitOptions.trainBatches(0, 0).pipe(
          concatMap((pending) => pending),
          take(1),
          toArray(),
        ),
      );
      const pixels = batch!.xs.dataSync();
      batch!.dispose();
      // The row of the training split each image is (augmentations draw by it), by its first pixel.
      const rowOf = new Map(Array.from({ length: composed.train.length }, (_, row) => [composed.train.image(row)[0]!, row]));
      return Object.assign(pixels, { rowOf });
    } finally {
      await composed.close();
    }
  };
  const plain = await firstBatch([]);
  // Brightness fixed at 0.5 (a range of one value): every pixel halved; one channel, so saturation does nothing.
  const halved = await firstBatch([{ type: 'colorJitter', brightness: [0.5, 0.5], saturation: 0.9 }]);
  halved.forEach((value, i) => expect(value).toBeCloseTo(plain[i]! / 2, 6));
  // A half turn of a 2×2 image, exactly: each image's four pixels in reverse order.
  const turned = await firstBatch([{ type: 'randomRotation', degrees: [180, 180] }]);
  for (let image = 0; image < 16; image++) {
    const own = Array.from(plain.slice(4 * image, 4 * image + 4));
    expect(new Set(own).size).toBe(4);
    expect(Array.from(turned.slice(4 * image, 4 * image + 4))).toEqual(own.reverse());
  }
  // TrivialAugment with 3 bins and fill 0.5: each image as the kernel makes it from its row's draw.
  const trivial = await firstBatch([{ type: 'trivialAugment', bins: 3, fill: 0.5 }]);
  const space = trivialAugmentSpace(3);
  const ops = new Set<string>();
  for (let image = 0; image < 16; image++) {
    const own = Float32Array.from(plain.slice(4 * image, 4 * image + 4));
    const draw = trivialAugmentDraw(space, 43, 0, plain.rowOf.get(Math.round(own[0]! * 255))!);
    ops.add(draw.op);
    applyAugmentOp(own, [2, 2, 1], draw, 0.5, new Float32Array(4));
    expect(Array.from(trivial.slice(4 * image, 4 * image + 4))).toEqual(Array.from(own));
  }
  expect(ops.size).toBeGreaterThan(4);
  // RandAugment, three operations at bin 4 of 5: each image as the kernel makes it, draw after draw.
  const rand = await firstBatch([{ type: 'randAugment', ops: 3, magnitude: 4, bins: 5 }]);
  const randSpace = randAugmentSpace(5, [2, 2]);
  for (let image = 0; image < 16; image++) {
    const own = Float32Array.from(plain.slice(4 * image, 4 * image + 4));
    const row = plain.rowOf.get(Math.round(own[0]! * 255))!;
    for (const draw of randAugmentDraws(randSpace, { ops: 3, magnitude: 4 }, 43, 0, row))
      applyAugmentOp(own, [2, 2, 1], draw, 0, new Float32Array(4));
    expect(Array.from(rand.slice(4 * image, 4 * image + 4))).toEqual(Array.from(own));
  }
});
