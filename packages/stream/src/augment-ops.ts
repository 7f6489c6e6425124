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
export function linspace(start: number, end: number, steps: number): number[] {
  const step = (end - start) / (steps - 1);
  return Array.from({ length: steps }, (_, k) => Math.fround(k < steps / 2 ? start + step * k : end - step * (steps - 1 - k)));
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
