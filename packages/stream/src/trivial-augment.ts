import { type AugmentOpDraw, type AugmentSpace, applyAugmentOp, augmentSpace, checkBins, drawAugmentOp } from './augment-ops.js';
import { AUGMENTATION_STREAMS, checkSeed, imageRandom } from './image-random.js';
import { type ImageTransform, mapImages } from './map-images.js';

export interface TrivialAugmentOptions {
  /** How many magnitudes each operation draws from, weakest to strongest; torchvision's 31 by default. */
  readonly bins?: number;
  /** The value of pixels moved in from outside the image by the geometric operations; default 0. */
  readonly fill?: number;
  readonly seed: number;
}

/** TrivialAugmentWide's space for `bins` bins: torchvision's _augmentation_space. */
export function trivialAugmentSpace(bins: number): AugmentSpace {
  return augmentSpace(bins, { shear: 0.99, translate: [32, 32], rotate: 135, factor: 0.99, posterizeBits: 6 });
}

/**
 * torchvision's TrivialAugmentWide: each image gets one operation drawn uniformly from fourteen, at
 * a magnitude drawn uniformly from its bins (negated half the time where it may be), all from (seed,
 * epoch, row). Pixels in [0, 1], so put it before `normalize`; `applyAugmentOp` is the pixel
 * kernel. Geometric operations take the nearest pixel, as torchvision's default.
 */
export function trivialAugment(options: TrivialAugmentOptions): ImageTransform {
  const { seed, bins = 31, fill = 0 } = options;
  checkSeed('trivialAugment', seed);
  checkBins('trivialAugment', bins);
  const space = trivialAugmentSpace(bins);
  return mapImages((batch) => {
    const size = batch.shape[0] * batch.shape[1] * batch.shape[2];
    const scratch = new Float32Array(size);
    batch.rows.forEach((row, i) => {
      const draw = trivialAugmentDraw(space, seed, batch.epoch, row);
      applyAugmentOp(batch.pixels.subarray(i * size, (i + 1) * size), batch.shape, draw, fill, scratch);
    });
    return batch;
  });
}

/** The draw of `trivialAugment` for `row` in `epoch`. */
export function trivialAugmentDraw(space: AugmentSpace, seed: number, epoch: number, row: number): AugmentOpDraw {
  const random = imageRandom(seed, epoch, row, AUGMENTATION_STREAMS.trivialAugment);
  return drawAugmentOp(random, space, (count) => random.nextInt(count));
}
