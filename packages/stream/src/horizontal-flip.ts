import { AUGMENTATION_STREAMS, checkSeed, imageRandom } from './image-random.js';
import { type ImageTransform, mapImages } from './map-images.js';

export interface HorizontalFlipOptions {
  readonly seed: number;
  /** Chance that an image is mirrored; default 0.5. */
  readonly probability?: number;
}

/** Mirrors images left to right, each with `probability`, in place. */
export function horizontalFlip(options: HorizontalFlipOptions): ImageTransform {
  const { seed, probability = 0.5 } = options;
  checkSeed('horizontalFlip', seed);
  if (!(probability >= 0 && probability <= 1)) throw new RangeError(`horizontalFlip: probability must be in [0, 1], got ${probability}`);
  return mapImages((batch) => {
    const [height, width, channels] = batch.shape;
    const { pixels } = batch;
    batch.rows.forEach((row, i) => {
      if (imageRandom(seed, batch.epoch, row, AUGMENTATION_STREAMS.flip).nextFloat() >= probability) return;
      for (let y = 0; y < height; y++) {
        const line = (i * height + y) * width * channels;
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
    });
    return batch;
  });
}
