import { type Observable, reduce, map } from 'rxjs';
import { batchSize, predictedClass, type PredictionBatch } from './prediction-batch.js';

/** Share of rows whose top score is the true class, over the whole stream (per sample). */
export function accuracy() {
  return (source: Observable<PredictionBatch>): Observable<number> =>
    source.pipe(
      reduce(
        (total, batch) => {
          let correct = 0;
          for (let row = 0; row < batchSize(batch); row++) if (predictedClass(batch, row) === batch.labels[row]) correct++;
          return { correct: total.correct + correct, count: total.count + batchSize(batch) };
        },
        { correct: 0, count: 0 },
      ),
      map(({ correct, count }) => (count === 0 ? Number.NaN : correct / count)),
    );
}
