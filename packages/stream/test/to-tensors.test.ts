import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { concatMap, from, lastValueFrom, take, toArray } from 'rxjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { epochBatches, evaluationBatches, rowIndices, toTensors, type TensorBatch } from '../src/index.js';
import { tinyDataset } from './fixtures.js';
import { labeledImages } from '@rxvision/dataset';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Pulls every batch one after another, copies what the test needs, disposes each. */
function consume(stream: ReturnType<ReturnType<typeof epochBatches>>) {
  return lastValueFrom(
    stream.pipe(
      concatMap((pending) =>
        pending.pipe(
          concatMap(async (batch: TensorBatch) => {
            const copy = {
              xs: await batch.xs.array(),
              ys: await batch.ys.array(),
              shape: batch.xs.shape,
              labels: Array.from(batch.labels),
              alive: tf.memory().numTensors,
            };
            batch.dispose();
            return copy;
          }),
        ),
      ),
      toArray(),
    ),
  );
}

describe('toTensors', () => {
  test('float32 pixels go to the model as they are; byte pixels of the same images are scaled by 1/255', async () => {
    const floats = Float32Array.from({ length: 3 * 4 }, (_, i) => (i - 5) * 0.75); // negative and above 1: already normalised values
    const images = labeledImages({ classes: ['a', 'b'], shape: [2, 2, 1], pixels: floats, labels: [0, 1, 1] });
    const [batch] = await consume(from([Uint32Array.from([2, 0])]).pipe(toTensors(images, { layout: 'flat' })));
    expect(batch!.xs).toEqual([Array.from(floats.subarray(8, 12)), Array.from(floats.subarray(0, 4))]);
    expect(batch!.labels).toEqual([1, 0]);
    const bytes = labeledImages({
      classes: ['a', 'b'],
      shape: [2, 2, 1],
      pixels: Uint8Array.from({ length: 12 }, (_, i) => i * 20),
      labels: [0, 1, 1],
    });
    const [scaled] = await consume(from([Uint32Array.from([2])]).pipe(toTensors(bytes, { layout: 'flat' })));
    (scaled!.xs as number[][])[0]!.forEach((value, p) => expect(value).toBeCloseTo(((8 + p) * 20) / 255, 6));
  });

  test('scales pixels to [0, 1] and keeps rows and labels together', async () => {
    const dataset = tinyDataset(5);
    const batches = await consume(from([Uint32Array.from([4, 1])]).pipe(toTensors(dataset, { layout: 'flat' })));
    expect(batches[0]!.shape).toEqual([2, 12]);
    expect((batches[0]!.xs as number[][])[0]![0]).toBeCloseTo(4 / 255, 6);
    expect((batches[0]!.xs as number[][])[1]!.every((v) => Math.abs(v - 1 / 255) < 1e-6)).toBe(true);
    expect(batches[0]!.ys).toEqual([1, 1]);
    expect(batches[0]!.labels).toEqual([1, 1]);
  });

  test('image layout and one-hot labels', async () => {
    const dataset = tinyDataset(3);
    const [first] = await consume(rowIndices(3).pipe(toTensors(dataset, { layout: 'image', labels: 'oneHot' })));
    expect(first!.shape).toEqual([3, 2, 2, 3]);
    expect(first!.ys).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
  });

  test('reads nothing until a batch is pulled', () => {
    const dataset = tinyDataset(4);
    let reads = 0;
    const counting = {
      ...dataset,
      classes: dataset.classes,
      shape: dataset.shape,
      length: 4,
      image: (i: number) => (reads++, dataset.image(i)),
      label: (i: number) => dataset.label(i),
    };
    const pendings: unknown[] = [];
    rowIndices(4)
      .pipe(toTensors(counting))
      .subscribe((pending) => pendings.push(pending));
    expect(pendings).toHaveLength(1);
    expect(reads).toBe(0);
  });
});

describe('evaluationBatches', () => {
  test('every row once, in order, on every call', async () => {
    const batches = evaluationBatches(tinyDataset(7), { batchSize: 3, layout: 'flat' });
    const rows = async () => (await consume(batches())).flatMap((b) => (b.xs as number[][]).map((row) => Math.round(row[0]! * 255)));
    expect(await rows()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(await rows()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});

describe('epochBatches', () => {
  test('a full pass leaves tf.memory().numTensors unchanged, and covers every row once', async () => {
    const dataset = tinyDataset(10);
    const epoch = epochBatches(dataset, { batchSize: 3, seed: 43, prefetch: 2, layout: 'flat' });
    const before = tf.memory().numTensors;
    const batches = await consume(epoch(0));
    expect(tf.memory().numTensors).toBe(before);
    expect(batches.map((b) => b.labels.length)).toEqual([3, 3, 3, 1]);
    const firstPixels = batches.flatMap((b) => (b.xs as number[][]).map((row) => Math.round(row[0]! * 255)));
    expect(firstPixels.slice().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Pulled one after another: while each batch is in use, the same number of tensors is alive
    // (the batch and the one prefetched behind it), never the whole epoch.
    expect(new Set(batches.slice(0, 2).map((b) => b.alive)).size).toBe(1);
    expect(batches[0]!.alive - before).toBeLessThanOrEqual(2 * 3);
    const again = await consume(epoch(0));
    expect(again.map((b) => b.labels)).toEqual(batches.map((b) => b.labels));
  });

  test('tells how many batches an epoch has', () => {
    expect([
      epochBatches(tinyDataset(10), { batchSize: 3 }).stepsPerEpoch,
      epochBatches(tinyDataset(9), { batchSize: 3 }).stepsPerEpoch,
    ]).toEqual([4, 3]);
  });

  test('unsubscribing mid-epoch disposes what was prefetched', async () => {
    const dataset = tinyDataset(10);
    const before = tf.memory().numTensors;
    await lastValueFrom(
      epochBatches(dataset, { batchSize: 2, seed: 1, prefetch: 3 })(0).pipe(
        concatMap((pending) => pending),
        take(1),
        concatMap(async (batch) => batch.dispose()),
      ),
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
