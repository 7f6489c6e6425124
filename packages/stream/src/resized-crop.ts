import type { ImageBatch } from './image-batch.js';
import { AUGMENTATION_STREAMS, checkSeed, imageRandom } from './image-random.js';
import { type ImageTransform, mapImages } from './map-images.js';

/** A window of an image: its top-left corner and size, in pixels. */
export interface CropBox {
  readonly top: number;
  readonly left: number;
  readonly height: number;
  readonly width: number;
}

export interface RandomResizedCropOptions {
  /** [height, width] of the crops: the model's input. */
  readonly size: readonly [number, number];
  /** The share of the image's area a crop covers, drawn uniformly (default [0.08, 1], torchvision's). */
  readonly scale?: readonly [number, number];
  /** Its width over its height, drawn log-uniformly (default [3/4, 4/3]). */
  readonly ratio?: readonly [number, number];
  readonly seed: number;
}

/**
 * torchvision's RandomResizedCrop: each image is cropped to a random window (a share of its area in
 * `scale`, an aspect ratio in `ratio`, ten tries, else a centred crop of the ratio's bound) resized
 * bilinearly to `size`. The window is drawn from (seed, epoch, row); `resizedCrop` is the pixel
 * kernel. Evaluation crops the centre (`centerCrop`).
 *
 * ```ts
 * epochBatches(photos, { batchSize: 32, seed: 1, transforms: [randomResizedCrop({ size: [224, 224], seed: 1 })] });
 * ```
 */
export function randomResizedCrop(options: RandomResizedCropOptions): ImageTransform {
  const { size, seed, scale = [0.08, 1], ratio = [3 / 4, 4 / 3] } = options;
  checkSize('randomResizedCrop', size);
  checkSeed('randomResizedCrop', seed);
  if (!(scale[0] > 0 && scale[0] <= scale[1] && scale[1] <= 1))
    throw new RangeError(`randomResizedCrop: scale must be 0 < low ≤ high ≤ 1, got [${scale.join(', ')}]`);
  if (!(ratio[0] > 0 && ratio[0] <= ratio[1]))
    throw new RangeError(`randomResizedCrop: ratio must be 0 < low ≤ high, got [${ratio.join(', ')}]`);
  return mapImages((batch) => cropAll(batch, size, (row) => cropBox(batch.shape, scale, ratio, seed, batch.epoch, row)));
}

/** The window `randomResizedCrop` takes of `row` in `epoch` (0-based), from an image of `shape`. */
export function cropBox(
  [height, width]: readonly [number, number, number],
  scale: readonly [number, number],
  ratio: readonly [number, number],
  seed: number,
  epoch: number,
  row: number,
): CropBox {
  const random = imageRandom(seed, epoch, row, AUGMENTATION_STREAMS.resizedCrop);
  const area = height * width;
  const [logLow, logHigh] = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * (scale[0] + random.nextFloat() * (scale[1] - scale[0]));
    const aspect = Math.exp(logLow + random.nextFloat() * (logHigh - logLow));
    const w = Math.round(Math.sqrt(target * aspect));
    const h = Math.round(Math.sqrt(target / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height)
      return { top: random.nextInt(height - h + 1), left: random.nextInt(width - w + 1), height: h, width: w };
  }
  // As torchvision: the whole image, cut to the nearest ratio allowed, centred.
  const inRatio = width / height;
  const [h, w] =
    inRatio < ratio[0]
      ? [Math.round(width / ratio[0]), width]
      : inRatio > ratio[1]
        ? [height, Math.round(height * ratio[1])]
        : [height, width];
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

/** The centre `size` of each image, as torchvision's CenterCrop (no resizing): evaluation's crop. */
export function centerCrop(size: readonly [number, number]): ImageTransform {
  checkSize('centerCrop', size);
  return mapImages((batch) => {
    const [height, width] = batch.shape;
    if (size[0] > height || size[1] > width)
      throw new RangeError(`centerCrop: ${size[0]}×${size[1]} is larger than the ${height}×${width} images`);
    const box = { top: Math.round((height - size[0]) / 2), left: Math.round((width - size[1]) / 2), height: size[0], width: size[1] };
    return cropAll(batch, size, () => box);
  });
}

function cropAll(batch: ImageBatch, size: readonly [number, number], boxOf: (row: number) => CropBox): ImageBatch {
  const channels = batch.shape[2];
  const pixels = new Float32Array(batch.rows.length * size[0] * size[1] * channels);
  batch.rows.forEach((row, i) => resizedCrop(batch.pixels, i, batch.shape, boxOf(row), pixels, size));
  return { ...batch, pixels, shape: [size[0], size[1], channels] };
}

/**
 * Window `box` of image `index` of `source` (`shape`), resized bilinearly to `size` (pixel centres
 * aligned, edges clamped, as PyTorch's bilinear without antialiasing), written as image `index` of
 * `target`. The pixel kernel of `randomResizedCrop` and `centerCrop`.
 */
export function resizedCrop(
  source: Float32Array,
  index: number,
  [height, width, channels]: readonly [number, number, number],
  box: CropBox,
  target: Float32Array,
  [outHeight, outWidth]: readonly [number, number],
): void {
  const from = index * height * width * channels;
  const to = index * outHeight * outWidth * channels;
  const [scaleY, scaleX] = [box.height / outHeight, box.width / outWidth];
  const clamp = (v: number, n: number) => Math.min(Math.max(v, 0), n - 1);
  for (let y = 0; y < outHeight; y++) {
    const sy = clamp((y + 0.5) * scaleY - 0.5, box.height);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, box.height - 1);
    const fy = sy - y0;
    for (let x = 0; x < outWidth; x++) {
      const sx = clamp((x + 0.5) * scaleX - 0.5, box.width);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, box.width - 1);
      const fx = sx - x0;
      const at = (yy: number, xx: number) => from + ((box.top + yy) * width + box.left + xx) * channels;
      const [a, b, c, d] = [at(y0, x0), at(y0, x1), at(y1, x0), at(y1, x1)];
      const out = to + (y * outWidth + x) * channels;
      for (let k = 0; k < channels; k++) {
        const top = source[a + k]! + (source[b + k]! - source[a + k]!) * fx;
        const bottom = source[c + k]! + (source[d + k]! - source[c + k]!) * fx;
        target[out + k] = top + (bottom - top) * fy;
      }
    }
  }
}

function checkSize(name: string, size: readonly [number, number]): void {
  if (!size.every((side) => Number.isInteger(side) && side > 0))
    throw new RangeError(`${name}: size must be [height, width] in whole pixels, got [${size.join(', ')}]`);
}
