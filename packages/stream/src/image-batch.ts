/**
 * A batch of images on the host, between reading and tensors: where augmentations work. Pixels are
 * float32 in [0, 1] as read (a normalisation may move them), `[n, height, width, channels]` in order.
 * Whoever holds a batch may replace its pixels; nothing else refers to them.
 */
export interface ImageBatch {
  /** The dataset row of each image. */
  readonly rows: Uint32Array;
  readonly labels: Uint32Array;
  /**
   * Soft targets, `[n, classes]` row-major, where a batch-level augmentation (mixup, cutmix) mixed
   * the labels; the tensors' `ys` are then these, float32. `labels` keep each image's own class.
   */
  readonly targets?: Float32Array;
  readonly pixels: Float32Array;
  readonly shape: readonly [height: number, width: number, channels: number];
  /** Where the batch is: its epoch, and its index within the epoch (counting skipped batches). */
  readonly epoch: number;
  readonly index: number;
}
