import type { LabeledImages, PixelArray } from '@rxvision/dataset';
import { type Observable, skip } from 'rxjs';
import { balance } from './balance.js';
import { batch } from './batch.js';
import { imagesToTensors, type ToTensorsOptions } from './images-to-tensors.js';
import type { ImageTransform } from './map-images.js';
import type { Pending } from './pending.js';
import { prefetch } from './prefetch.js';
import { readImages } from './read-images.js';
import { rowIndices } from './row-indices.js';
import { shuffle } from './shuffle.js';
import type { TensorBatch } from './tensor-batch.js';

export interface EpochBatchesOptions extends ToTensorsOptions {
  readonly batchSize: number;
  /** Shuffle each epoch with this seed; leave out to keep row order (as for evaluation). */
  readonly seed?: number;
  /** Draw each epoch's rows class-balanced (`balance`, with the seed) instead of shuffling them all once. */
  readonly balanced?: boolean;
  /** Steps between reading and tensors, in order: augmentations, normalisation, your own. */
  readonly transforms?: readonly ImageTransform[];
  /** Batches prepared ahead of the one in use; default 1. */
  readonly prefetch?: number;
}

/**
 * One epoch's batches; `skipBatches` leaves out the first batches of the epoch (to resume a run).
 * `stepsPerEpoch` says how many batches an epoch has: `fit` reads it for per-step schedules.
 */
export type EpochBatches = ((epoch: number, skipBatches?: number) => Observable<Pending<TensorBatch>>) & { readonly stepsPerEpoch: number };

/**
 * The usual composition, one epoch's stream per call:
 * `rowIndices → shuffle → batch → (skip) → readImages → ...transforms → imagesToTensors → prefetch`.
 * Skipped batches are dropped as index arrays, before any pixel is read; augmentations draw from
 * (seed, epoch, row), so a resumed epoch sees the same pixels as an uninterrupted one.
 */
export function epochBatches(dataset: LabeledImages<PixelArray>, options: EpochBatchesOptions): EpochBatches {
  const transforms = options.transforms ?? [];
  if (options.balanced && options.seed === undefined) throw new RangeError('epochBatches: balanced sampling needs a seed');
  const batches = (epoch: number, skipBatches = 0) => {
    const rows = rowIndices(dataset.length);
    const { seed } = options;
    const ordered =
      seed === undefined
        ? rows
        : rows.pipe(options.balanced ? balance({ seed, epoch, labelOf: (row) => dataset.label(row) }) : shuffle({ seed, epoch }));
    const images = transforms.reduce(
      (stream, transform) => transform(stream),
      ordered.pipe(batch(options.batchSize), skip(skipBatches), readImages(dataset, { epoch, firstIndex: skipBatches })),
    );
    return images.pipe(imagesToTensors(dataset.classes.length, options), prefetch<TensorBatch>(options.prefetch ?? 1));
  };
  return Object.assign(batches, { stepsPerEpoch: Math.ceil(dataset.length / options.batchSize) });
}
