import type { LabeledImages } from '@rxvision/dataset';
import type { Observable } from 'rxjs';
import { batch } from './batch.js';
import type { Pending } from './pending.js';
import { prefetch } from './prefetch.js';
import { rowIndices } from './row-indices.js';
import { shuffle } from './shuffle.js';
import type { TensorBatch } from './tensor-batch.js';
import { toTensors, type ToTensorsOptions } from './to-tensors.js';

export interface EpochBatchesOptions extends ToTensorsOptions {
  readonly batchSize: number;
  /** Shuffle each epoch with this seed; leave out to keep row order (as for evaluation). */
  readonly seed?: number;
  /** Batches prepared ahead of the one in use; default 1. */
  readonly prefetch?: number;
}

/**
 * The usual composition, one epoch's stream per call:
 * `rowIndices → shuffle → batch → toTensors → prefetch`.
 */
export function epochBatches(dataset: LabeledImages, options: EpochBatchesOptions): (epoch: number) => Observable<Pending<TensorBatch>> {
  return (epoch) => {
    const rows = rowIndices(dataset.length);
    const ordered = options.seed === undefined ? rows : rows.pipe(shuffle({ seed: options.seed, epoch }));
    return ordered.pipe(batch(options.batchSize), toTensors(dataset, options), prefetch<TensorBatch>(options.prefetch ?? 1));
  };
}
