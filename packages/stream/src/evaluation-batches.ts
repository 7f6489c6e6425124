import type { LabeledImages, PixelArray } from '@rxvision/dataset';
import type { Observable } from 'rxjs';
import { epochBatches, type EpochBatchesOptions } from './epoch-batches.js';
import type { Pending } from './pending.js';
import type { TensorBatch } from './tensor-batch.js';

/**
 * A split's batches for evaluation, in row order, each call a fresh pass: what `fit`'s
 * `validationBatches` and `evaluate` take. Transforms here are the deterministic ones (normalise),
 * not augmentations.
 *
 * ```ts
 * fit(model, { schedule, trainBatches: epochBatches(train, { batchSize: 128, seed: 43 }), validationBatches: evaluationBatches(validation, { batchSize: 1000 }) });
 * ```
 */
export function evaluationBatches(
  dataset: LabeledImages<PixelArray>,
  options: Omit<EpochBatchesOptions, 'seed'>,
): () => Observable<Pending<TensorBatch>> {
  const batches = epochBatches(dataset, options);
  return () => batches(0);
}
