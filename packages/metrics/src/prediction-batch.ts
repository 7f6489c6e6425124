/**
 * What a model produced for one batch, copied off the device: plain arrays, so metrics run
 * anywhere and depend on no tfjs backend.
 */
export interface PredictionBatch {
  /** Row-major `[size, classes]` scores (logits or probabilities). */
  readonly scores: Float32Array;
  /** True class of each row. */
  readonly labels: ArrayLike<number>;
  /**
   * Row-major `[size, classes]` targets where they are more than one class a row: multi-hot for
   * multi-label data (1 for each class the image shows). Metrics of several labels read these.
   */
  readonly targets?: ArrayLike<number>;
  readonly classes: number;
  /** Sum over the rows of the per-sample loss, when the producer computed one. */
  readonly lossSum?: number;
  /** The dataset row of each sample, where the producer knows it (for showing the images). */
  readonly rows?: ArrayLike<number>;
}

export function batchSize(batch: PredictionBatch): number {
  return batch.labels.length;
}

/** Index of the highest score of row `row` (the first one on ties, like argmax everywhere). */
export function predictedClass(batch: PredictionBatch, row: number): number {
  const offset = row * batch.classes;
  let best = 0;
  for (let c = 1; c < batch.classes; c++) {
    if (batch.scores[offset + c]! > batch.scores[offset + best]!) best = c;
  }
  return best;
}
