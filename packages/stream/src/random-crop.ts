import type { ImageBatch } from './image-batch.js';
import { AUGMENTATION_STREAMS, checkSeed, imageRandom } from './image-random.js';
import { type ImageTransform, mapImages } from './map-images.js';

/** What fills the border a shifted image leaves: zeros, or the image mirrored at its edge (PyTorch's 'reflect', edge not repeated). */
export type CropFill = 'zeros' | 'reflect';

export interface RandomCropOptions {
  /** Pixels added on each side before cropping back to the original size: the largest shift. */
  readonly padding: number;
  readonly seed: number;
  /** Default 'zeros'; 'reflect' is airbench's translate (padding 2). */
  readonly fill?: CropFill;
}

/**
 * Pads each image with `padding` pixels on every side and crops a window of its own size at a
 * random place (CIFAR's usual augmentation: padding 4, zeros): the image moves by up to `padding`
 * pixels. The shift is drawn from (seed, epoch, row); `translateImage` is the pixel kernel.
 *
 * ```ts
 * epochBatches(train, { batchSize: 128, seed: 1, transforms: [randomCrop({ padding: 2, fill: 'reflect', seed: 1 })] });
 * ```
 */
export function randomCrop(options: RandomCropOptions): ImageTransform {
  const { padding, seed, fill = 'zeros' } = options;
  if (!Number.isInteger(padding) || padding < 0) throw new RangeError(`randomCrop: padding must be a non-negative integer, got ${padding}`);
  if (fill !== 'zeros' && fill !== 'reflect') throw new RangeError(`randomCrop: fill must be 'zeros' or 'reflect', got ${String(fill)}`);
  checkSeed('randomCrop', seed);
  return mapImages((batch) => crop(batch, padding, seed, fill));
}

function crop(batch: ImageBatch, padding: number, seed: number, fill: CropFill): ImageBatch {
  if (fill === 'reflect' && padding >= Math.min(batch.shape[0], batch.shape[1]))
    throw new RangeError(`randomCrop: reflect padding ${padding} needs images larger than that, got ${batch.shape[0]}×${batch.shape[1]}`);
  const pixels = new Float32Array(batch.pixels.length);
  batch.rows.forEach((row, i) => {
    const random = imageRandom(seed, batch.epoch, row, AUGMENTATION_STREAMS.crop);
    const dy = random.nextInt(2 * padding + 1) - padding;
    const dx = random.nextInt(2 * padding + 1) - padding;
    translateImage(batch.pixels, pixels, i, batch.shape, dy, dx, fill);
  });
  return { ...batch, pixels };
}

/**
 * Image `index` of `source` shifted so that output pixel (y, x) is input pixel (y + dy, x + dx),
 * written to the same place in `target`; where that falls outside, zeros (left as `target` holds
 * them) or the reflection. The pixel kernel of `randomCrop`.
 */
export function translateImage(
  source: Float32Array,
  target: Float32Array,
  index: number,
  [height, width, channels]: readonly [number, number, number],
  dy: number,
  dx: number,
  fill: CropFill,
): void {
  const rowLength = width * channels;
  const base = index * height * rowLength;
  if (fill === 'zeros') {
    const xStart = Math.max(0, -dx);
    const xEnd = Math.min(width, width - dx);
    if (xEnd <= xStart) return; // moved by its whole width or more: all zeros
    for (let y = Math.max(0, -dy); y < Math.min(height, height - dy); y++) {
      const from = base + (y + dy) * rowLength + (xStart + dx) * channels;
      target.set(source.subarray(from, from + (xEnd - xStart) * channels), base + y * rowLength + xStart * channels);
    }
    return;
  }
  const reflect = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
  for (let y = 0; y < height; y++) {
    const fromRow = base + reflect(y + dy, height) * rowLength;
    for (let x = 0; x < width; x++) {
      const from = fromRow + reflect(x + dx, width) * channels;
      const to = base + y * rowLength + x * channels;
      for (let c = 0; c < channels; c++) target[to + c] = source[from + c]!;
    }
  }
}
