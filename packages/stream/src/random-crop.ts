import type { ImageBatch } from './image-batch.js';
import { AUGMENTATION_STREAMS, checkSeed, imageRandom } from './image-random.js';
import { type ImageTransform, mapImages } from './map-images.js';

export interface RandomCropOptions {
  /** Pixels of zeros added on each side before cropping back to the original size. */
  readonly padding: number;
  readonly seed: number;
}

/**
 * Pads each image with `padding` zeros on every side and crops a window of its own size at a
 * random place (CIFAR's usual augmentation: padding 4): the image moves by up to `padding` pixels.
 */
export function randomCrop(options: RandomCropOptions): ImageTransform {
  const { padding, seed } = options;
  if (!Number.isInteger(padding) || padding < 0) throw new RangeError(`randomCrop: padding must be a non-negative integer, got ${padding}`);
  checkSeed('randomCrop', seed);
  return mapImages((batch) => crop(batch, padding, seed));
}

function crop(batch: ImageBatch, padding: number, seed: number): ImageBatch {
  const [height, width, channels] = batch.shape;
  const perImage = height * width * channels;
  const rowLength = width * channels;
  const pixels = new Float32Array(batch.pixels.length); // zeros where the window leaves the image
  batch.rows.forEach((row, i) => {
    const random = imageRandom(seed, batch.epoch, row, AUGMENTATION_STREAMS.crop);
    const dy = random.nextInt(2 * padding + 1) - padding;
    const dx = random.nextInt(2 * padding + 1) - padding;
    const base = i * perImage;
    const xStart = Math.max(0, -dx);
    const xEnd = Math.min(width, width - dx);
    if (xEnd <= xStart) return; // moved by its whole width or more (padding wider than the image): all zeros
    for (let y = Math.max(0, -dy); y < Math.min(height, height - dy); y++) {
      const from = base + (y + dy) * rowLength + (xStart + dx) * channels;
      pixels.set(batch.pixels.subarray(from, from + (xEnd - xStart) * channels), base + y * rowLength + xStart * channels);
    }
  });
  return { ...batch, pixels };
}
