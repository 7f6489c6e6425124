import { AUGMENTATION_STREAMS, checkSeed, imageRandom } from './image-random.js';
import { type ImageTransform, mapImages } from './map-images.js';

export interface HorizontalFlipOptions {
  readonly seed: number;
  /** Chance that an image is mirrored; default 0.5. */
  readonly probability?: number;
  /**
   * Alternating flip (airbench, arXiv 2404.00498): a seeded half of the images is mirrored in the
   * first epoch, and every image is mirrored in the epochs where it was not the epoch before. Each
   * image is seen both ways every two epochs, which random flips give only on average.
   * `probability` is the share mirrored in the first epoch.
   */
  readonly alternate?: boolean;
}

/**
 * Mirrors images left to right, each with `probability` (drawn from seed, epoch and row), or on
 * alternate epochs with `alternate`; in place.
 *
 * ```ts
 * epochBatches(train, { batchSize: 128, seed: 1, transforms: [horizontalFlip({ seed: 1, alternate: true })] });
 * ```
 */
export function horizontalFlip(options: HorizontalFlipOptions): ImageTransform {
  const { seed, probability = 0.5, alternate = false } = options;
  checkSeed('horizontalFlip', seed);
  if (!(probability >= 0 && probability <= 1)) throw new RangeError(`horizontalFlip: probability must be in [0, 1], got ${probability}`);
  return mapImages((batch) => {
    batch.rows.forEach((row, i) => {
      if (isMirrored(seed, batch.epoch, row, probability, alternate)) mirrorImage(batch.pixels, i, batch.shape);
    });
    return batch;
  });
}

/** The random draw of `horizontalFlip`: whether `row` is mirrored in `epoch` (0-based). */
export function isMirrored(seed: number, epoch: number, row: number, probability: number, alternate: boolean): boolean {
  if (!alternate) return imageRandom(seed, epoch, row, AUGMENTATION_STREAMS.flip).nextFloat() < probability;
  const first = imageRandom(seed, 0, row, AUGMENTATION_STREAMS.flip).nextFloat() < probability;
  return first !== (epoch % 2 === 1);
}

/** Mirrors image `index` of `pixels` (`[n, height, width, channels]`) left to right, in place: the pixel kernel. */
export function mirrorImage(pixels: Float32Array, index: number, [height, width, channels]: readonly [number, number, number]): void {
  for (let y = 0; y < height; y++) {
    const line = (index * height + y) * width * channels;
    for (let left = 0, right = width - 1; left < right; left++, right--) {
      for (let c = 0; c < channels; c++) {
        const a = line + left * channels + c;
        const b = line + right * channels + c;
        const kept = pixels[a]!;
        pixels[a] = pixels[b]!;
        pixels[b] = kept;
      }
    }
  }
}
