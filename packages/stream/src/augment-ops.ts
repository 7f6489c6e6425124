import type { Random } from '@rxvision/dataset';
import { affineImage, type AffineWarp, inverseAffineMatrix } from './affine-image.js';
import { adjustBrightness, adjustContrast, adjustSaturation } from './color-kernels.js';
import { adjustSharpness, autocontrast, equalize, posterize, solarize } from './tone-kernels.js';

// The operations of torchvision's automatic augmentations (TrivialAugmentWide, RandAugment) and
// the kernel that applies one: autoaugment.py's _apply_op, 0.14.

/** The operations, in the order of torchvision's augmentation spaces (a draw's index). */
export const AUGMENT_OPS = [
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
export type AugmentOp = (typeof AUGMENT_OPS)[number];

/** One operation as drawn: which, and its signed magnitude in torchvision's units. */
export interface AugmentOpDraw {
  readonly op: AugmentOp;
  readonly magnitude: number;
}

/** An augmentation space: each operation's magnitudes, weakest to strongest, and whether a draw may negate it. */
export type AugmentSpace = Record<AugmentOp, { readonly magnitudes: readonly number[]; readonly signed: boolean }>;

/** torch.linspace to float32, within its last bit: the first half counted up from `start`, the rest down from `end`. */
function linspace(start: number, end: number, steps: number): number[] {
  const step = (end - start) / (steps - 1);
  return Array.from({ length: steps }, (_, k) => Math.fround(k < steps / 2 ? start + step * k : end - step * (steps - 1 - k)));
}

/** The strongest magnitude of each kind of operation in a space: what its policies differ in. */
export interface AugmentRanges {
  /** Of the shears, as tan(angle). */
  readonly shear: number;
  /** Pixels, along x and along y. */
  readonly translate: readonly [number, number];
  /** Degrees. */
  readonly rotate: number;
  /** Of brightness, colour, contrast and sharpness: the factor 1 ± it. */
  readonly factor: number;
  /** Bits posterize drops at the last bin. */
  readonly posterizeBits: number;
}

/**
 * A space of `bins` magnitudes from none to each range's strongest, as torchvision's
 * _augmentation_space: signed for the geometric and colour operations, solarize's threshold from
 * 255 down to 0, and autocontrast, equalize and identity without magnitude.
 */
export function augmentSpace(bins: number, ranges: AugmentRanges): AugmentSpace {
  const signed = (strongest: number) => ({ magnitudes: linspace(0, strongest, bins), signed: true });
  const none = { magnitudes: [0], signed: false };
  const factor = signed(ranges.factor);
  return {
    identity: none,
    shearX: signed(ranges.shear),
    shearY: signed(ranges.shear),
    translateX: signed(ranges.translate[0]),
    translateY: signed(ranges.translate[1]),
    rotate: signed(ranges.rotate),
    brightness: factor,
    color: factor,
    contrast: factor,
    sharpness: factor,
    posterize: {
      magnitudes: Array.from({ length: bins }, (_, k) => 8 - Math.round(k / ((bins - 1) / ranges.posterizeBits))),
      signed: false,
    },
    solarize: { magnitudes: linspace(255, 0, bins), signed: false },
    autocontrast: none,
    equalize: none,
  };
}

/** Checks an augmentation's number of bins, naming the augmentation. */
export function checkBins(augmentation: string, bins: number): void {
  if (!(Number.isInteger(bins) && bins >= 2)) throw new RangeError(`${augmentation}: bins must be an integer ≥ 2, got ${bins}`);
}

/**
 * One operation drawn uniformly from `space`, at the magnitude `bin` picks among its own (given how
 * many it has), negated half the time where it may be: the draw TrivialAugment and RandAugment share.
 */
export function drawAugmentOp(random: Random, space: AugmentSpace, bin: (count: number) => number): AugmentOpDraw {
  const op = AUGMENT_OPS[random.nextInt(AUGMENT_OPS.length)]!;
  const { magnitudes, signed } = space[op];
  const magnitude = magnitudes[bin(magnitudes.length)]!;
  return { op, magnitude: signed && random.nextInt(2) === 1 ? -magnitude : magnitude };
}

/**
 * Applies a draw to one image (`[height, width, channels]`, pixels in [0, 1]) in place, as
 * torchvision's _apply_op: the pixel kernel. `scratch` holds one image for the geometric operations.
 */
export function applyAugmentOp(
  image: Float32Array,
  shape: readonly [number, number, number],
  { op, magnitude }: AugmentOpDraw,
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
