import {
  abs,
  add,
  cast,
  div,
  exp,
  log1p,
  losses,
  matMul,
  mean,
  mul,
  neg,
  Reduction,
  relu,
  reshape,
  type Scalar,
  sub,
  sum,
  type Tensor,
  tensor1d,
  tensor2d,
  tidy,
} from '@tensorflow/tfjs-core';

/**
 * A training loss: the batch's mean over samples, from one-hot (or soft) float targets
 * `[n, classes]` and the model's logits `[n, classes]` (never probabilities: no softmax at the end).
 */
export type Loss = (targets: Tensor, logits: Tensor) => Scalar;

export interface SoftmaxCrossEntropyOptions {
  /** Moves this much of each target's mass evenly onto all classes (0, the default, for none). */
  readonly labelSmoothing?: number;
  /**
   * A weight per class: each sample's loss counts as its class's weight, and the batch's loss is
   * their weighted mean (PyTorch's `CrossEntropyLoss(weight=…)`; with label smoothing, the weight is
   * still the true class's). `classWeights` makes them from a split's class counts.
   */
  readonly classWeights?: readonly number[];
}

/** Softmax cross-entropy on logits, the default loss, with optional label smoothing and class weights. */
export function softmaxCrossEntropy(options: SoftmaxCrossEntropyOptions = {}): Loss {
  const { labelSmoothing = 0, classWeights } = options;
  if (!(labelSmoothing >= 0 && labelSmoothing < 1)) throw new RangeError(`labelSmoothing must be in [0, 1), got ${labelSmoothing}`);
  if (
    classWeights &&
    (classWeights.length < 2 || classWeights.some((w) => !(w >= 0 && Number.isFinite(w))) || !classWeights.some((w) => w > 0))
  )
    throw new RangeError(`classWeights must be one finite weight ≥ 0 per class, not all 0, got [${classWeights.join(', ')}]`);
  if (!classWeights) return (targets, logits) => losses.softmaxCrossEntropy(targets, logits, undefined, labelSmoothing) as Scalar;
  const weightsColumn = [...classWeights];
  // Made at each call, inside tidy: a loss is built before a backend is chosen, and holds no tensor.
  return (targets, logits) =>
    tidy(() => {
      const column = tensor2d(weightsColumn, [weightsColumn.length, 1]);
      if (targets.shape[1] !== classWeights.length)
        throw new RangeError(`classWeights has ${classWeights.length} weights for ${String(targets.shape[1])} classes`);
      // Each sample's weight, its target's mix of the class weights (its class's, for a one-hot target).
      const weights = reshape(matMul(cast(targets, 'float32'), column), [-1]);
      const each = losses.softmaxCrossEntropy(targets, logits, undefined, labelSmoothing, Reduction.NONE);
      return div(sum(mul(each, weights)), sum(weights)) as Scalar;
    });
}

/**
 * scikit-learn's `compute_class_weight('balanced')` from a split's class counts: samples / (classes ×
 * count), so that every class weighs as much in the loss. A class with no samples gets 0.
 */
export function balancedClassWeights(counts: readonly number[]): number[] {
  const samples = counts.reduce((a, b) => a + b, 0);
  return counts.map((count) => (count === 0 ? 0 : samples / (counts.length * count)));
}

export interface SigmoidCrossEntropyOptions {
  /**
   * A weight per class on its positive targets (PyTorch's `pos_weight`): above 1 where a class is
   * rare among the images, so missing it costs more than a false alarm.
   */
  readonly positiveWeights?: readonly number[];
}

/**
 * Binary cross-entropy on logits, each class on its own: the multi-label loss, PyTorch's
 * BCEWithLogitsLoss (the mean over samples and classes), from multi-hot targets `[n, classes]`.
 * Written in the stable form (1 − z)·x + w·softplus(−x), w = 1 + (p − 1)·z, softplus(−x) =
 * max(−x, 0) + log(1 + e^−|x|).
 */
export function sigmoidCrossEntropy(options: SigmoidCrossEntropyOptions = {}): Loss {
  const { positiveWeights } = options;
  if (positiveWeights && (positiveWeights.length < 1 || positiveWeights.some((w) => !(w >= 0 && Number.isFinite(w)))))
    throw new RangeError(`positiveWeights must be one finite weight ≥ 0 per class, got [${positiveWeights.join(', ')}]`);
  const weightsRow = positiveWeights && [...positiveWeights];
  return (targets, logits) =>
    tidy(() => {
      if (weightsRow && targets.shape[1] !== weightsRow.length)
        throw new RangeError(`positiveWeights has ${weightsRow.length} weights for ${String(targets.shape[1])} classes`);
      const z = cast(targets, 'float32');
      const softplusOfMinus = add(relu(neg(logits)), log1p(exp(neg(abs(logits)))));
      // 1 + (p − 1)·z: p on the positive targets, 1 on the others.
      const weight = weightsRow ? add(1, mul(sub(tensor1d(weightsRow), 1), z)) : 1;
      return mean(add(mul(sub(1, z), logits), mul(weight, softplusOfMinus))) as Scalar;
    });
}
