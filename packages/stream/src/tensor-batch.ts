import type { Tensor } from '@tensorflow/tfjs-core';
import type { Disposable } from './pending.js';

/** A batch on the caller's tfjs engine. Its owner disposes it when the step that used it is done. */
export interface TensorBatch extends Disposable {
  /** float32 (in [0, 1] unless normalised): `[n, pixels]` (flat) or `[n, height, width, channels]` (image). */
  readonly xs: Tensor;
  /** int32 class indices `[n]`, or float32 one-hot `[n, classes]`. */
  readonly ys: Tensor;
  /** The labels on the host as well, so metrics need no read-back from the device. */
  readonly labels: Uint32Array;
  /** Where `ys` are soft or multi-hot targets (mixup, multi-label data): them on the host, `[n, classes]`. */
  readonly targets?: Float32Array;
  /** The dataset row of each image. */
  readonly rows: Uint32Array;
  /** The batch's epoch and its index within the epoch. */
  readonly epoch: number;
  readonly index: number;
  readonly size: number;
}
