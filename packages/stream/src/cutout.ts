import { AUGMENTATION_STREAMS, checkSeed, imageRandom } from './image-random.js';
import { type ImageTransform, mapImages } from './map-images.js';

export interface CutoutOptions {
  /** Side of the square set to `fill`, in pixels. */
  readonly size: number;
  readonly seed: number;
  /** The value written; default 0. */
  readonly fill?: number;
}

/**
 * Cutout (DeVries & Taylor, 2017): sets a `size`×`size` square of each image to `fill`, centred on a
 * random pixel, so the square may be cut by the edge. In place.
 */
export function cutout(options: CutoutOptions): ImageTransform {
  const { size, seed, fill = 0 } = options;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`cutout: size must be a positive integer, got ${size}`);
  checkSeed('cutout', seed);
  return mapImages((batch) => {
    const [height, width, channels] = batch.shape;
    batch.rows.forEach((row, i) => {
      const random = imageRandom(seed, batch.epoch, row, AUGMENTATION_STREAMS.cutout);
      const top = random.nextInt(height) - Math.floor(size / 2);
      const left = random.nextInt(width) - Math.floor(size / 2);
      for (let y = Math.max(0, top); y < Math.min(height, top + size); y++) {
        const line = (i * height + y) * width * channels;
        batch.pixels.fill(fill, line + Math.max(0, left) * channels, line + Math.min(width, left + size) * channels);
      }
    });
    return batch;
  });
}
