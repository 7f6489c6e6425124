import { type Observable, reduce, map } from 'rxjs';
import { batchSize, predictedClass, type PredictionBatch } from './prediction-batch.js';

/**
 * Share of rows whose top score is the true class, over the whole stream (per sample). Where a
 * batch has `targets` (multi-label data), a row counts when its top class is any class it shows.
 */
export function accuracy() {
  return (source: Observable<PredictionBatch>): Observable<number> =>
    source.pipe(
      reduce(
        (total, batch) => {
          let correct = 0;
          for (let row = 0; row < batchSize(batch); row++) if (isHit(batch, row, predictedClass(batch, row))) correct++;
          return { correct: total.correct + correct, count: total.count + batchSize(batch) };
        },
        { correct: 0, count: 0 },
      ),
      map(({ correct, count }) => (count === 0 ? Number.NaN : correct / count)),
    );
}

function isHit(batch: PredictionBatch, row: number, predicted: number): boolean {
  return batch.targets ? batch.targets[row * batch.classes + predicted]! > 0 : predicted === batch.labels[row];
}
