import '@tensorflow/tfjs-backend-cpu';
import { ImageDataset } from '@rxvision/dataset';
import * as tf from '@tensorflow/tfjs-core';
import { concatMap, from, lastValueFrom, toArray } from 'rxjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { centerCrop, cropBox, type ImageBatch, type ImageTransform, randomResizedCrop, readImages, resizedCrop } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const [H, W, C] = [12, 10, 3];
const photos = ImageDataset.fromArrays(
  {
    classes: ['a', 'b'],
    shape: [H, W, C],
    pixels: Uint8Array.from({ length: 6 * H * W * C }, (_, i) => (i * 37 + Math.floor(i / 7) * 11) % 256),
    labels: Uint8Array.from({ length: 6 }, (_, r) => r % 2),
  },
  'photos',
);

/** The batches `transform` makes of every row, read for epoch `epoch`. */
const transformed = (transform: ImageTransform, epoch = 0): Promise<ImageBatch[]> =>
  lastValueFrom(
    transform(from([Uint32Array.of(0, 1, 2, 3, 4, 5)]).pipe(readImages(photos, { epoch }))).pipe(
      concatMap((pending) => pending),
      toArray(),
    ),
  );

describe('resizedCrop, the pixel kernel', () => {
  test("is tfjs's half-pixel bilinear resize of the window, for upscaling and downscaling", () => {
    const image = Float32Array.from({ length: 2 * H * W * C }, (_, i) => Math.sin(i) * 0.5 + 0.5);
    for (const [box, size] of [
      [{ top: 1, left: 2, height: 7, width: 6 }, [4, 5]],
      [{ top: 3, left: 0, height: 5, width: 4 }, [9, 11]],
    ] as const) {
      const out = new Float32Array(2 * size[0] * size[1] * C);
      resizedCrop(image, 1, [H, W, C], box, out, size);
      const expected = tf.tidy(() => {
        const window = tf.slice(tf.tensor4d(image, [2, H, W, C]), [1, box.top, box.left, 0], [1, box.height, box.width, C]);
        return tf.image.resizeBilinear(window as tf.Tensor4D, [...size], false, true).dataSync();
      });
      const written = out.subarray(size[0] * size[1] * C);
      written.forEach((v, i) => expect(v, `pixel ${i}`).toBeCloseTo(expected[i]!, 5));
      expect(out.subarray(0, size[0] * size[1] * C).every((v) => v === 0)).toBe(true); // image 0 untouched
    }
  });
});

describe('randomResizedCrop', () => {
  test('draws a window from (seed, epoch, row) alone: inside the image, a share of its area in scale, its ratio in range', () => {
    const scale = [0.08, 1] as const;
    const ratio = [3 / 4, 4 / 3] as const;
    const boxes = Array.from({ length: 200 }, (_, row) => cropBox([H, W, C], scale, ratio, 7, 2, row));
    for (const box of boxes) {
      expect(box.top >= 0 && box.left >= 0 && box.top + box.height <= H && box.left + box.width <= W).toBe(true);
      expect(box.height * box.width).toBeGreaterThan(0);
    }
    expect(cropBox([H, W, C], scale, ratio, 7, 2, 5)).toEqual(boxes[5]);
    expect(cropBox([H, W, C], scale, ratio, 7, 3, 5)).not.toEqual(boxes[5]);
    // Many different windows: a crop, not a fixed one.
    expect(new Set(boxes.map((b) => `${b.top},${b.left},${b.height},${b.width}`)).size).toBeGreaterThan(100);
    // A ratio no window of the image can have: the centred crop of the nearest one allowed.
    expect(cropBox([H, W, C], [1, 1], [2, 3], 1, 0, 0)).toEqual({ top: 3, left: 0, height: 5, width: 10 });
  });

  test('gives images of the crop size, each the resized window its draw names; a bad size or scale is one line', async () => {
    const [batch] = await transformed(randomResizedCrop({ size: [8, 8], seed: 1 }), 3);
    expect(batch!.shape).toEqual([8, 8, C]);
    expect(batch!.pixels.length).toBe(6 * 8 * 8 * C);
    const box = cropBox([H, W, C], [0.08, 1], [3 / 4, 4 / 3], 1, 3, 4);
    const expected = new Float32Array(8 * 8 * C);
    resizedCrop(
      Float32Array.from(photos.image(4), (v) => v / 255),
      0,
      [H, W, C],
      box,
      expected,
      [8, 8],
    );
    expect(batch!.pixels.slice(4 * 8 * 8 * C, 5 * 8 * 8 * C)).toEqual(expected);
    expect(() => randomResizedCrop({ size: [0, 8], seed: 1 })).toThrow(
      'randomResizedCrop: size must be [height, width] in whole pixels, got [0, 8]',
    );
    expect(() => randomResizedCrop({ size: [8, 8], seed: 1, scale: [0.5, 0.2] })).toThrow(
      'randomResizedCrop: scale must be 0 < low ≤ high ≤ 1, got [0.5, 0.2]',
    );
  });
});

describe('centerCrop', () => {
  test("is the image's centre, as torchvision's CenterCrop; larger than the images is one line", async () => {
    const [batch] = await transformed(centerCrop([8, 6]));
    expect(batch!.shape).toEqual([8, 6, C]);
    const image = Float32Array.from(photos.image(3), (v) => v / 255);
    const crop = batch!.pixels.subarray(3 * 8 * 6 * C, 4 * 8 * 6 * C);
    for (let y = 0; y < 8; y++)
      for (let x = 0; x < 6; x++) for (let c = 0; c < C; c++) expect(crop[(y * 6 + x) * C + c]).toBe(image[((y + 2) * W + x + 2) * C + c]);
    await expect(transformed(centerCrop([13, 6]))).rejects.toThrow('centerCrop: 13×6 is larger than the 12×10 images');
  });
});
