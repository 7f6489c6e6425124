/** What every model builder takes: the images it sees and the classes it tells apart. */
export interface ClassifierOptions {
  /** `[height, width, channels]` of the images, as the dataset's metadata gives it. */
  readonly inputShape: readonly [number, number, number];
  readonly classes: number;
  /** Seeds every initial weight (default 43): the same seed, the same weights, on every backend. */
  readonly seed?: number;
  /** Dropout before the last layer (and, in the MLP, after every hidden layer); 0 (default) for none. */
  readonly dropout?: number;
}

/** Refuses options no network can be built from, in one line naming the builder. */
export function checkClassifierOptions(builder: string, { inputShape, classes, dropout = 0 }: ClassifierOptions): void {
  if (inputShape.length !== 3 || inputShape.some((size) => !Number.isInteger(size) || size < 1))
    throw new RangeError(`${builder}: inputShape must be [height, width, channels] of positive integers, got [${inputShape.join(', ')}]`);
  if (!Number.isInteger(classes) || classes < 2)
    throw new RangeError(`${builder}: classes must be an integer of at least 2, got ${classes}`);
  if (!(dropout >= 0 && dropout < 1)) throw new RangeError(`${builder}: dropout must be in [0, 1), got ${dropout}`);
}

/**
 * The most parameters a builder makes: 2 GB of float32 weights, and training needs as much again
 * for their gradients and the optimizer's state. Far above any model that trains in reasonable
 * time on the images rxvision reads, and below what a process can allocate.
 */
export const MAX_PARAMETERS = 500_000_000;

/** Refuses a network too large to allocate, before a weight of it is made; returns the count. */
export function checkParameterCount(builder: string, parameters: number): number {
  if (parameters > MAX_PARAMETERS) {
    throw new RangeError(
      `${builder}: ${parameters.toLocaleString('en-US')} parameters (${((parameters * 4) / 1e9).toFixed(1)} GB of float32 weights, and as much again to train them); at most ${MAX_PARAMETERS.toLocaleString('en-US')}`,
    );
  }
  return parameters;
}

/** Refuses a list of layer widths (units or filters) that is not positive integers. */
export function checkWidths(builder: string, name: string, widths: readonly number[]): void {
  if (widths.length === 0 || widths.some((width) => !Number.isInteger(width) || width < 1))
    throw new RangeError(`${builder}: ${name} must be positive integers, got [${widths.join(', ')}]`);
}

/** What a network with batch norm takes besides. */
export interface BatchNormOptions {
  /**
   * The share of the running statistics each training step keeps (Keras' convention; PyTorch's
   * `momentum` is 1 minus it). Default 0.9, PyTorch's 0.1: tfjs's own 0.99 keeps the initial
   * statistics for hundreds of steps, so a short run validates with the wrong ones.
   */
  readonly batchNormMomentum?: number;
}

export const DEFAULT_BATCH_NORM_MOMENTUM = 0.9;

/** The momentum to build with, or a RangeError naming the builder. */
export function batchNormMomentumOf(builder: string, { batchNormMomentum = DEFAULT_BATCH_NORM_MOMENTUM }: BatchNormOptions): number {
  if (!(batchNormMomentum >= 0 && batchNormMomentum < 1))
    throw new RangeError(`${builder}: batchNormMomentum must be in [0, 1), got ${batchNormMomentum}`);
  return batchNormMomentum;
}
