import { type ImageTransform, mapImages } from './map-images.js';

export interface MultiHotTargetsOptions {
  readonly classes: number;
  /** The classes an image shows, by its row in the dataset the batches are read from. */
  readonly labelsOf: (row: number) => ArrayLike<number>;
}

/**
 * Multi-label data: each image's targets 1 for every class it shows and 0 for the rest, so that the
 * tensors' `ys` are multi-hot (for `sigmoidCrossEntropy`) and metrics see them (mean average
 * precision). `labels` keep what the dataset says; the targets are `labelsOf`'s.
 */
export function multiHotTargets({ classes, labelsOf }: MultiHotTargetsOptions): ImageTransform {
  if (!(Number.isInteger(classes) && classes >= 1)) throw new RangeError(`multiHotTargets: classes must be an integer ≥ 1, got ${classes}`);
  return mapImages((batch) => {
    const targets = new Float32Array(batch.rows.length * classes);
    batch.rows.forEach((row, i) => {
      for (const label of Array.from(labelsOf(row))) {
        if (!(Number.isInteger(label) && label >= 0 && label < classes))
          throw new RangeError(`multiHotTargets: row ${row} has label ${label}, outside 0..${classes - 1}`);
        targets[i * classes + label] = 1;
      }
    });
    return { ...batch, targets };
  });
}
