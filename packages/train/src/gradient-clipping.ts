import { add, clipByValue, div, minimum, mul, scalar, sqrt, square, sum, type Tensor, tidy } from '@tensorflow/tfjs-core';

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
 * arithmetic: the scale is max / (norm + 1e-6), clamped to 1 (a norm under the most is left as it is).
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
    // min(1, max / (norm + 1e-6)) as PyTorch's clamped coefficient, kept on the device: no read-back per step.
    const scale = tidy(() => {
      const squares = clipped.filter(({ name }) => counted(name)).map(({ tensor }) => sum(square(tensor)));
      const norm = sqrt(squares.reduce((total, s) => add(total, s), scalar(0)));
      return minimum(div(scalar(maxGradientNorm), add(norm, 1e-6)), 1);
    });
    clipped = clipped.map(({ name, tensor }) => ({ name, tensor: mul(tensor, scale) }));
    made.push(scale, ...clipped.map(({ tensor }) => tensor));
  }
  return { gradients: clipped, made };
}
