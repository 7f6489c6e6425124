import { affineImage, type AffineWarp, inverseAffineMatrix } from './affine-image.js';
import { adjustBrightness, adjustContrast, adjustSaturation } from './color-kernels.js';
import { AUGMENTATION_STREAMS, checkSeed, imageRandom } from './image-random.js';
import { type ImageTransform, mapImages } from './map-images.js';
import { adjustSharpness, autocontrast, equalize, posterize, solarize } from './tone-kernels.js';

export interface TrivialAugmentOptions {
  /** How many magnitudes each operation draws from, weakest to strongest; torchvision's 31 by default. */
  readonly bins?: number;
  /** The value of pixels moved in from outside the image by the geometric operations; default 0. */
  readonly fill?: number;
  readonly seed: number;
}

/** TrivialAugmentWide's operations, in torchvision's order (the draw's index). */
export const TRIVIAL_AUGMENT_OPS = [
  'identity',
  'shearX',
  'shearY',
  'translateX',
  'translateY',
  'rotate',
  'brightness',
  'color',
  'contrast',
  'sharpness',
  'posterize',
  'solarize',
  'autocontrast',
  'equalize',
] as const;
export type TrivialAugmentOp = (typeof TRIVIAL_AUGMENT_OPS)[number];

/** One image's draw: the operation and its signed magnitude, in torchvision's units. */
export interface TrivialAugmentDraw {
  readonly op: TrivialAugmentOp;
  readonly magnitude: number;
}

/** torch.linspace to float32, within its last bit: the first half counted up from `start`, the rest down from `end`. */
function linspace(start: number, end: number, steps: number): number[] {
  const step = (end - start) / (steps - 1);
  return Array.from({ length: steps }, (_, k) => Math.fround(k < steps / 2 ? start + step * k : end - step * (steps - 1 - k)));
}

/** Each operation's magnitudes for `bins` bins and whether a draw may negate it: torchvision's _augmentation_space. */
export function trivialAugmentSpace(bins: number): Record<TrivialAugmentOp, { magnitudes: number[]; signed: boolean }> {
  const factor = { magnitudes: linspace(0, 0.99, bins), signed: true };
  const none = { magnitudes: [0], signed: false };
  return {
    identity: none,
    shearX: factor,
    shearY: factor,
    translateX: { magnitudes: linspace(0, 32, bins), signed: true },
    translateY: { magnitudes: linspace(0, 32, bins), signed: true },
    rotate: { magnitudes: linspace(0, 135, bins), signed: true },
    brightness: factor,
    color: factor,
    contrast: factor,
    sharpness: factor,
    posterize: { magnitudes: Array.from({ length: bins }, (_, k) => 8 - Math.round(k / ((bins - 1) / 6))), signed: false },
    solarize: { magnitudes: linspace(255, 0, bins), signed: false },
    autocontrast: none,
    equalize: none,
  };
}

/**
 * torchvision's TrivialAugmentWide: each image gets one operation drawn uniformly from fourteen, at
 * a magnitude drawn uniformly from its bins (negated half the time where it may be), all from (seed,
 * epoch, row). Pixels in [0, 1], so put it before `normalize`; `trivialAugmentImage` is the pixel
 * kernel. Geometric operations take the nearest pixel, as torchvision's default.
 */
export function trivialAugment(options: TrivialAugmentOptions): ImageTransform {
  const { seed, bins = 31, fill = 0 } = options;
  checkSeed('trivialAugment', seed);
  if (!(Number.isInteger(bins) && bins >= 2)) throw new RangeError(`trivialAugment: bins must be an integer ≥ 2, got ${bins}`);
  const space = trivialAugmentSpace(bins);
  return mapImages((batch) => {
    const size = batch.shape[0] * batch.shape[1] * batch.shape[2];
    const scratch = new Float32Array(size);
    batch.rows.forEach((row, i) => {
      const draw = trivialAugmentDraw(space, seed, batch.epoch, row);
      trivialAugmentImage(batch.pixels.subarray(i * size, (i + 1) * size), batch.shape, draw, fill, scratch);
    });
    return batch;
  });
}

/** The draw of `trivialAugment` for `row` in `epoch`. */
export function trivialAugmentDraw(
  space: ReturnType<typeof trivialAugmentSpace>,
  seed: number,
  epoch: number,
  row: number,
): TrivialAugmentDraw {
  const random = imageRandom(seed, epoch, row, AUGMENTATION_STREAMS.trivialAugment);
  const op = TRIVIAL_AUGMENT_OPS[random.nextInt(TRIVIAL_AUGMENT_OPS.length)]!;
  const { magnitudes, signed } = space[op];
  const magnitude = magnitudes[random.nextInt(magnitudes.length)]!;
  return { op, magnitude: signed && random.nextInt(2) === 1 ? -magnitude : magnitude };
}

/**
 * Applies a draw to one image (`[height, width, channels]`, pixels in [0, 1]) in place, as
 * torchvision's _apply_op: the pixel kernel. `scratch` holds one image for the geometric operations.
 */
export function trivialAugmentImage(
  image: Float32Array,
  shape: readonly [number, number, number],
  { op, magnitude }: TrivialAugmentDraw,
  fill: number,
  scratch: Float32Array,
): void {
  const warp = (how: AffineWarp) => {
    affineImage(image, shape, inverseAffineMatrix(shape, how), fill, scratch);
    image.set(scratch.subarray(0, image.length));
  };
  const shear = (Math.atan(magnitude) * 180) / Math.PI;
  if (op === 'shearX') warp({ shear: [shear, 0], aboutCorner: true });
  else if (op === 'shearY') warp({ shear: [0, shear], aboutCorner: true });
  else if (op === 'translateX') warp({ translate: [Math.trunc(magnitude), 0] });
  else if (op === 'translateY') warp({ translate: [0, Math.trunc(magnitude)] });
  else if (op === 'rotate') warp({ angle: -magnitude });
  else if (op === 'brightness') adjustBrightness(image, 1 + magnitude);
  else if (op === 'color') adjustSaturation(image, shape, 1 + magnitude);
  else if (op === 'contrast') adjustContrast(image, shape, 1 + magnitude);
  else if (op === 'sharpness') adjustSharpness(image, shape, 1 + magnitude);
  else if (op === 'posterize') posterize(image, magnitude);
  else if (op === 'solarize') solarize(image, magnitude / 255);
  else if (op === 'autocontrast') autocontrast(image, shape);
  else if (op === 'equalize') equalize(image, shape);
}
