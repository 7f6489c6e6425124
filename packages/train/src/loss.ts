import { losses, type Scalar, type Tensor } from '@tensorflow/tfjs-core';

/**
 * A training loss: the batch's mean over samples, from one-hot (or soft) float targets
 * `[n, classes]` and the model's logits `[n, classes]` (never probabilities: no softmax at the end).
 */
export type Loss = (targets: Tensor, logits: Tensor) => Scalar;

export interface SoftmaxCrossEntropyOptions {
  /** Moves this much of each target's mass evenly onto all classes (0, the default, for none). */
  readonly labelSmoothing?: number;
}

/** Softmax cross-entropy on logits, the default loss, with optional label smoothing. */
export function softmaxCrossEntropy(options: SoftmaxCrossEntropyOptions = {}): Loss {
  const { labelSmoothing = 0 } = options;
  if (!(labelSmoothing >= 0 && labelSmoothing < 1)) throw new RangeError(`labelSmoothing must be in [0, 1), got ${labelSmoothing}`);
  return (targets, logits) => losses.softmaxCrossEntropy(targets, logits, undefined, labelSmoothing) as Scalar;
}
