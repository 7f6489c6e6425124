import type { LabeledImages } from '@rxvision/dataset';
import { type Observable, skip } from 'rxjs';
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

/** One epoch's batches; `skipBatches` leaves out the first batches of the epoch (to resume a run). */
export type EpochBatches = (epoch: number, skipBatches?: number) => Observable<Pending<TensorBatch>>;

/**
 * The usual composition, one epoch's stream per call:
 * `rowIndices → shuffle → batch → (skip) → toTensors → prefetch`. Skipped batches are dropped as
 * index arrays, before any pixel is read.
 */
export function epochBatches(dataset: LabeledImages, options: EpochBatchesOptions): EpochBatches {
  return (epoch, skipBatches = 0) => {
    const rows = rowIndices(dataset.length);
    const ordered = options.seed === undefined ? rows : rows.pipe(shuffle({ seed: options.seed, epoch }));
    return ordered.pipe(batch(options.batchSize), skip(skipBatches), toTensors(dataset, options), prefetch<TensorBatch>(options.prefetch ?? 1));
  };
}
