import { type AugmentOpDraw, type AugmentSpace, applyAugmentOp, augmentSpace, checkBins, drawAugmentOp } from './augment-ops.js';
import { AUGMENTATION_STREAMS, checkSeed, imageRandom } from './image-random.js';
import { type ImageTransform, mapImages } from './map-images.js';

export interface RandAugmentOptions {
  /** Operations applied to each image, one after another; torchvision's 2 by default. */
  readonly ops?: number;
  /** The bin every operation takes its magnitude from, 0 … bins − 1; torchvision's 9 by default. */
  readonly magnitude?: number;
  /** How many bins the magnitudes are spread over; 31 by default. */
  readonly bins?: number;
  /** The value of pixels moved in from outside the image by the geometric operations; default 0. */
  readonly fill?: number;
  readonly seed: number;
}

/** RandAugment's space for `bins` bins and images of `[height, width]`: torchvision's _augmentation_space. */
export function randAugmentSpace(bins: number, [height, width]: readonly [number, number, ...number[]]): AugmentSpace {
  const translate = [(150 / 331) * width, (150 / 331) * height] as const;
  return augmentSpace(bins, { shear: 0.3, translate, rotate: 30, factor: 0.9, posterizeBits: 4 });
}

/**
 * torchvision's RandAugment: each image gets `ops` operations in turn, each drawn uniformly from
 * fourteen at the one `magnitude` bin (negated half the time where it may be), all from (seed,
 * epoch, row). Pixels in [0, 1], so put it before `normalize`; `applyAugmentOp` is the pixel kernel.
 */
export function randAugment(options: RandAugmentOptions): ImageTransform {
  const { seed, ops = 2, magnitude = 9, bins = 31, fill = 0 } = options;
  checkSeed('randAugment', seed);
  checkBins('randAugment', bins);
  if (!(Number.isInteger(ops) && ops >= 1)) throw new RangeError(`randAugment: ops must be an integer ≥ 1, got ${ops}`);
  if (!(Number.isInteger(magnitude) && magnitude >= 0 && magnitude < bins))
    throw new RangeError(`randAugment: magnitude must be a bin, an integer in [0, ${bins - 1}], got ${magnitude}`);
  return mapImages((batch) => {
    const space = randAugmentSpace(bins, batch.shape);
    const size = batch.shape[0] * batch.shape[1] * batch.shape[2];
    const scratch = new Float32Array(size);
    batch.rows.forEach((row, i) => {
      const image = batch.pixels.subarray(i * size, (i + 1) * size);
      for (const draw of randAugmentDraws(space, { ops, magnitude }, seed, batch.epoch, row))
        applyAugmentOp(image, batch.shape, draw, fill, scratch);
    });
    return batch;
  });
}

/** The draws of `randAugment` for `row` in `epoch`: `ops` operations, in the order they apply. */
export function randAugmentDraws(
  space: AugmentSpace,
  { ops, magnitude }: { readonly ops: number; readonly magnitude: number },
  seed: number,
  epoch: number,
  row: number,
): AugmentOpDraw[] {
  const random = imageRandom(seed, epoch, row, AUGMENTATION_STREAMS.randAugment);
  // The one bin for every operation that has bins; 0 for those with no magnitude.
  return Array.from({ length: ops }, () => drawAugmentOp(random, space, (count) => (count > 1 ? magnitude : 0)));
}
