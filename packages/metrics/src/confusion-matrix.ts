import { defer, type Observable, reduce } from 'rxjs';
import { batchSize, predictedClass, type PredictionBatch } from './prediction-batch.js';

/** Counts of (true class, predicted class): `counts[actual * classes + predicted]`. */
export interface ConfusionMatrix {
  readonly classes: number;
  readonly counts: Uint32Array;
}

export function confusionMatrix(classes: number) {
  return (source: Observable<PredictionBatch>): Observable<ConfusionMatrix> =>
    // The counts are made per subscription: a second subscriber counts from zero, not on top.
    defer(() =>
      source.pipe(
        reduce(
          (matrix, batch) => {
            if (batch.classes !== classes) throw new RangeError(`expected ${classes} classes, got a batch with ${batch.classes}`);
            for (let row = 0; row < batchSize(batch); row++) matrix.counts[batch.labels[row]! * classes + predictedClass(batch, row)]!++;
            return matrix;
          },
          { classes, counts: new Uint32Array(classes * classes) } as ConfusionMatrix,
        ),
      ),
    );
}

/** Recall of each class: the share of its rows predicted as itself (NaN for a class with no rows). */
export function perClassAccuracy(matrix: ConfusionMatrix): number[] {
  const { classes, counts } = matrix;
  return Array.from({ length: classes }, (_, actual) => {
    let total = 0;
    for (let predicted = 0; predicted < classes; predicted++) total += counts[actual * classes + predicted]!;
    return total === 0 ? Number.NaN : counts[actual * classes + actual]! / total;
  });
}
