import { add, clipByValue, mul, scalar, sqrt, square, sum, type Tensor, tidy } from '@tensorflow/tfjs-core';

/** A tensor with its variable's name, as optimizers take and give them. */
interface NamedTensor {
  name: string;
  tensor: Tensor;
}

export interface GradientClipping {
  /** Each gradient element clamped to [−v, v] (PyTorch's `clip_grad_value_`). */
  readonly maxGradientValue?: number | undefined;
  /** All gradients scaled down together so that their joint L2 norm is at most this (PyTorch's `clip_grad_norm_`). */
  readonly maxGradientNorm?: number | undefined;
}

/**
 * The gradients clipped, by value first, then by their global norm over those `counted` (not a
 * frozen weight's); `made` are the tensors made here, for the caller to dispose. PyTorch's
 * arithmetic: the scale is max / (norm + 1e-6), applied only where it is below 1.
 */
export function clipGradients(
  gradients: readonly NamedTensor[],
  { maxGradientValue, maxGradientNorm }: GradientClipping,
  counted: (name: string) => boolean,
): { gradients: NamedTensor[]; made: Tensor[] } {
  const made: Tensor[] = [];
  let clipped = [...gradients];
  if (maxGradientValue !== undefined) {
    clipped = clipped.map(({ name, tensor }) => ({ name, tensor: clipByValue(tensor, -maxGradientValue, maxGradientValue) }));
    made.push(...clipped.map(({ tensor }) => tensor));
  }
  if (maxGradientNorm !== undefined) {
    const norm = tidy(() =>
      sqrt(clipped.filter(({ name }) => counted(name)).reduce((total, { tensor }) => add(total, sum(square(tensor))), scalar(0))),
    );
    const total = norm.dataSync()[0]!;
    norm.dispose();
    const scale = maxGradientNorm / (total + 1e-6);
    if (scale < 1) {
      const factor = scalar(scale);
      clipped = clipped.map(({ name, tensor }) => ({ name, tensor: mul(tensor, factor) }));
      made.push(factor, ...clipped.map(({ tensor }) => tensor));
    }
  }
  return { gradients: clipped, made };
}
