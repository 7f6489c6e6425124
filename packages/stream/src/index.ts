export { batch } from './batch.js';
export { type EpochBatches, epochBatches, type EpochBatchesOptions } from './epoch-batches.js';
export type { Disposable, Pending } from './pending.js';
export { prefetch } from './prefetch.js';
export { rowIndices } from './row-indices.js';
export { epochSeed, shuffle, type ShuffleOptions } from './shuffle.js';
export type { TensorBatch } from './tensor-batch.js';
export { toTensors, type ToTensorsOptions } from './to-tensors.js';
