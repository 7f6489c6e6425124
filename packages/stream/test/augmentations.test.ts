import '@tensorflow/tfjs-backend-cpu';
import { ImageDataset } from '@rxvision/dataset';
import * as tf from '@tensorflow/tfjs-core';
import { concatMap, from, lastValueFrom, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  colorJitter,
  cutout,
  epochBatches,
  horizontalFlip,
  type ImageBatch,
  type ImageTransform,
  isMirrored,
  mapImages,
  mirrorImage,
  normalize,
  randomCrop,
  randomRotation,
  readImages,
  translateImage,
} from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const [H, W, C] = [5, 6, 3];
/** Every pixel of every image distinct (within 255): the transforms' effects can be read back. */
function patternDataset(rows: number): ImageDataset {
  const pixels = Uint8Array.from({ length: rows * H * W * C }, (_, i) => 1 + ((i * 7 + Math.floor(i / (H * W * C)) * 13) % 250));
  const labels = Uint8Array.from({ length: rows }, (_, r) => r % 2);
  return ImageDataset.fromArrays({ classes: ['a', 'b'], shape: [H, W, C], pixels, labels }, 'pattern');
}
const dataset = patternDataset(40);
const original = (row: number) => Float32Array.from(dataset.image(row), (v) => v / 255);
const at = (image: Float32Array, y: number, x: number, c: number) => image[(y * W + x) * C + c]!;

/** Runs rows through readImages and the transforms; returns each image by its row. */
async function imagesOf(transforms: ImageTransform[], rows: number[][], epoch = 0): Promise<Map<number, Float32Array>> {
  const stream = transforms.reduce((s, t) => t(s), from(rows.map((r) => Uint32Array.from(r))).pipe(readImages(dataset, { epoch })));
  const batches = await lastValueFrom(
    stream.pipe(
      concatMap((pending) => pending),
      toArray(),
    ),
  );
  const images = new Map<number, Float32Array>();
  for (const batch of batches) batch.rows.forEach((row, i) => images.set(row, batch.pixels.slice(i * H * W * C, (i + 1) * H * W * C)));
  return images;
}
const allRows = [[...Array(40).keys()]];

describe('horizontalFlip', () => {
  test('with probability 1 mirrors every image; twice gives it back; with 0 leaves it', async () => {
    const flipped = await imagesOf([horizontalFlip({ seed: 1, probability: 1 })], allRows);
    for (const [row, image] of flipped)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) for (let c = 0; c < C; c++) expect(at(image, y, x, c)).toBe(at(original(row), y, W - 1 - x, c));
    const twice = await imagesOf([horizontalFlip({ seed: 1, probability: 1 }), horizontalFlip({ seed: 2, probability: 1 })], allRows);
    for (const [row, image] of twice) expect(image).toEqual(original(row));
    for (const [row, image] of await imagesOf([horizontalFlip({ seed: 1, probability: 0 })], allRows)) expect(image).toEqual(original(row));
  });

  test('with 0.5 mirrors some and not others', async () => {
    const flipped = [...(await imagesOf([horizontalFlip({ seed: 3 })], allRows))].filter(
      ([row, image]) => at(image, 0, 0, 0) !== at(original(row), 0, 0, 0),
    ).length;
    expect(flipped).toBeGreaterThan(8);
    expect(flipped).toBeLessThan(32);
  });
});

describe('alternating flip', () => {
  test('mirrors a seeded half in the first epoch, and each image the other way in every next epoch', async () => {
    const mirrored = (image: Float32Array, row: number) => !equal(image, original(row));
    const epochs = await Promise.all([0, 1, 2, 3].map((epoch) => imagesOf([horizontalFlip({ seed: 4, alternate: true })], allRows, epoch)));
    const first = [...epochs[0]!].filter(([row, image]) => mirrored(image, row)).length;
    expect(first).toBeGreaterThan(8);
    expect(first).toBeLessThan(32);
    for (const row of allRows[0]!) {
      const seen = epochs.map((images) => mirrored(images.get(row)!, row));
      expect(seen, `row ${row}`).toEqual([seen[0], !seen[0], seen[0], !seen[0]]);
    }
    // Random flips, for contrast, leave images the same way in consecutive epochs about half the time.
    const random = await Promise.all([0, 1].map((epoch) => imagesOf([horizontalFlip({ seed: 4 })], allRows, epoch)));
    expect(allRows[0]!.filter((row) => mirrored(random[0]!.get(row)!, row) === mirrored(random[1]!.get(row)!, row)).length).toBeGreaterThan(
      8,
    );
  });

  test('the draw is a plain function of (seed, epoch, row), and the kernel mirrors one image in place', () => {
    expect(isMirrored(9, 6, 17, 0.5, true)).toBe(isMirrored(9, 0, 17, 0.5, true));
    expect(isMirrored(9, 7, 17, 0.5, true)).toBe(!isMirrored(9, 0, 17, 0.5, true));
    const pixels = Float32Array.from({ length: 2 * 1 * 3 * 2 }, (_, i) => i); // two 1×3 images of 2 channels
    mirrorImage(pixels, 1, [1, 3, 2]);
    expect(Array.from(pixels)).toEqual([0, 1, 2, 3, 4, 5, 10, 11, 8, 9, 6, 7]);
  });
});

describe('randomCrop', () => {
  test('with reflect fill, the border is the image mirrored at its edge (the edge pixel not repeated)', async () => {
    for (const [row, image] of await imagesOf([randomCrop({ padding: 2, seed: 5, fill: 'reflect' })], allRows)) {
      const source = original(row);
      const reflect = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
      const shift = [-2, -1, 0, 1, 2]
        .flatMap((dy) => [-2, -1, 0, 1, 2].map((dx) => [dy, dx] as const))
        .find(([dy, dx]) => {
          for (let y = 0; y < H; y++)
            for (let x = 0; x < W; x++)
              for (let c = 0; c < C; c++) if (at(image, y, x, c) !== at(source, reflect(y + dy, H), reflect(x + dx, W), c)) return false;
          return true;
        });
      expect(shift, `row ${row}`).toBeDefined();
    }
    // The kernel alone: a 1×4 image of one channel moved left by 2 reflects its last pixels.
    const target = new Float32Array(4);
    translateImage(Float32Array.from([1, 2, 3, 4]), target, 0, [1, 4, 1], 0, 2, 'reflect');
    expect(Array.from(target)).toEqual([3, 4, 3, 2]);
    expect(() => randomCrop({ padding: 2, seed: 1, fill: 'wrap' as 'zeros' })).toThrow(
      "randomCrop: fill must be 'zeros' or 'reflect', got wrap",
    );
  });

  test('moves each image by at most the padding, filling with zeros; padding 0 changes nothing', async () => {
    const shifts = new Set<string>();
    for (const [row, image] of await imagesOf([randomCrop({ padding: 2, seed: 5 })], allRows)) {
      const source = original(row);
      const shift = [-2, -1, 0, 1, 2]
        .flatMap((dy) => [-2, -1, 0, 1, 2].map((dx) => [dy, dx] as const))
        .find(([dy, dx]) => {
          for (let y = 0; y < H; y++)
            for (let x = 0; x < W; x++)
              for (let c = 0; c < C; c++) {
                const [sy, sx] = [y + dy, x + dx];
                const expected = sy < 0 || sy >= H || sx < 0 || sx >= W ? 0 : at(source, sy, sx, c);
                if (at(image, y, x, c) !== expected) return false;
              }
          return true;
        });
      expect(shift, `row ${row}`).toBeDefined();
      shifts.add(shift!.join());
    }
    expect(shifts.size).toBeGreaterThan(5); // the places vary
    for (const [row, image] of await imagesOf([randomCrop({ padding: 0, seed: 5 })], allRows)) expect(image).toEqual(original(row));
  });

  test('padding wider than the image: 1×1 images padded by 4 are kept or moved out whole, never read past the batch (it threw "offset is out of bounds")', async () => {
    const rows = 64;
    const tiny = ImageDataset.fromArrays(
      {
        classes: ['a', 'b'],
        shape: [1, 1, 3],
        pixels: Uint8Array.from({ length: rows * 3 }, (_, i) => 1 + (i % 250)),
        labels: new Uint8Array(rows),
      },
      'tiny',
    );
    const stream = randomCrop({ padding: 4, seed: 9 })(
      from([Uint32Array.from({ length: rows }, (_, i) => i)]).pipe(readImages(tiny, { epoch: 0 })),
    );
    const [batch] = await lastValueFrom(
      stream.pipe(
        concatMap((pending) => pending),
        toArray(),
      ),
    );
    let kept = 0;
    batch!.rows.forEach((row, i) => {
      const image = Array.from(batch!.pixels.slice(i * 3, i * 3 + 3));
      const source = Array.from(tiny.image(row), (v) => Math.fround(v / 255));
      if (image.every((value, c) => value === source[c])) kept++;
      else expect(image, `row ${row}`).toEqual([0, 0, 0]);
    });
    expect(kept).toBeLessThan(rows);
  });
});

describe('cutout', () => {
  test('sets a square of at most size×size pixels, cut by the edge, to the fill value', async () => {
    for (const [row, image] of await imagesOf([cutout({ size: 3, seed: 7, fill: -1 })], allRows)) {
      const cut: Array<[number, number]> = [];
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          const values = [0, 1, 2].map((c) => at(image, y, x, c));
          if (values.every((v) => v === -1)) cut.push([y, x]);
          else expect(values, `row ${row}`).toEqual([0, 1, 2].map((c) => at(original(row), y, x, c)));
        }
      expect(cut.length).toBeGreaterThan(0);
      expect(cut.length).toBeLessThanOrEqual(9);
      const ys = cut.map(([y]) => y);
      const xs = cut.map(([, x]) => x);
      expect(cut.length).toBe((Math.max(...ys) - Math.min(...ys) + 1) * (Math.max(...xs) - Math.min(...xs) + 1)); // a rectangle
    }
  });
});

describe('normalize', () => {
  test('subtracts the mean and divides by the std, channel by channel', async () => {
    const images = await imagesOf([normalize({ mean: [0.1, 0.2, 0.3], std: [0.5, 0.25, 2] })], [[0, 1]]);
    for (const [row, image] of images)
      image.forEach((value, i) => expect(value).toBeCloseTo((original(row)[i]! - [0.1, 0.2, 0.3][i % 3]!) / [0.5, 0.25, 2][i % 3]!, 6));
  });

  test('a mean per channel for images with another channel count fails the stream in one line', async () => {
    await expect(imagesOf([normalize({ mean: [0.5], std: [0.5] })], [[0]])).rejects.toThrow(
      'normalize: 1 channel values for images with 3 channels',
    );
  });
});

describe('augmentations draw from (seed, epoch, row) alone', () => {
  const transforms = [
    randomCrop({ padding: 2, seed: 11, fill: 'reflect' }),
    horizontalFlip({ seed: 11 }),
    horizontalFlip({ seed: 12, alternate: true }),
    cutout({ size: 2, seed: 11 }),
    colorJitter({ brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, seed: 11 }),
    randomRotation({ degrees: 30, seed: 11 }),
  ];
  test('batch size and order do not change an image; the epoch does', async () => {
    const chunks = (rows: number[], size: number) =>
      Array.from({ length: Math.ceil(rows.length / size) }, (_, i) => rows.slice(i * size, (i + 1) * size));
    const rows = [...Array(40).keys()];
    const byFours = await imagesOf(transforms, chunks(rows, 4));
    const reversedBySevens = await imagesOf(transforms, chunks(rows.toReversed(), 7));
    for (const [row, image] of byFours) expect(reversedBySevens.get(row), `row ${row}`).toEqual(image);
    const nextEpoch = await imagesOf(transforms, [rows], 1);
    expect([...byFours].filter(([row, image]) => !equal(nextEpoch.get(row)!, image)).length).toBeGreaterThan(20);
  });

  test('a resumed epoch gives the batches, pixels and positions of the uninterrupted one', async () => {
    const batches = epochBatches(dataset, { batchSize: 6, seed: 43, transforms });
    const read = async (epoch: number, skip: number) =>
      lastValueFrom(
        batches(epoch, skip).pipe(
          concatMap((pending) => pending),
          concatMap(async (batch) => {
            const copy = { pixels: await batch.xs.data(), rows: Array.from(batch.rows), epoch: batch.epoch, index: batch.index };
            batch.dispose();
            return copy;
          }),
          toArray(),
        ),
      );
    const whole = await read(2, 0);
    expect(whole.map((b) => b.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(await read(2, 3)).toEqual(whole.slice(3));
    expect(tf.memory().numTensors).toBe(0);
  });
});

const equal = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => v === b[i]);

describe('mapImages', () => {
  const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  const batchOf = (index: number) => ({ index }) as unknown as ImageBatch;

  test('transforms a batch only when it is pulled, and each time it is', async () => {
    let calls = 0;
    const transform = mapImages((batch) => {
      calls++;
      return { ...batch, epoch: 9 };
    });
    const pendings = await lastValueFrom(transform(from([batchOf(0), batchOf(1)].map((b) => from([b])))).pipe(toArray()));
    expect(calls).toBe(0);
    expect((await lastValueFrom(pendings[1]!)).epoch).toBe(9);
    expect(calls).toBe(1);
  });

  test('unsubscribing stops the source', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a--b|', { a: from([batchOf(0)]), b: from([batchOf(1)]) });
      expectObservable(mapImages((b) => b)(source), '^--!').toBe('-x', { x: expect.anything() });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  test('options no augmentation can use are refused in one line', () => {
    expect(() => randomCrop({ padding: -1, seed: 1 })).toThrow('randomCrop: padding must be a non-negative integer, got -1');
    expect(() => horizontalFlip({ seed: 1, probability: 2 })).toThrow('horizontalFlip: probability must be in [0, 1], got 2');
    expect(() => cutout({ size: 0, seed: 1 })).toThrow('cutout: size must be a positive integer, got 0');
    expect(() => cutout({ size: 2, seed: 0.5 })).toThrow('cutout: seed must be an integer, got 0.5');
    expect(() => normalize({ mean: [0.5, 0.5], std: [0.5] })).toThrow('normalize: mean and std need one value per channel, got 2 and 1');
  });
});
