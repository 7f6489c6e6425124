import { map, type Observable, reduce } from 'rxjs';
import { batchSize, type PredictionBatch } from './prediction-batch.js';

/**
 * Share of rows whose true class is among the `k` highest scores, over the whole stream (per
 * sample). Ties at the k-th score count against the row, so top-1 equals `accuracy()`.
 */
export function topKAccuracy(k: number) {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`topKAccuracy: k must be a positive integer, got ${k}`);
  return (source: Observable<PredictionBatch>): Observable<number> =>
    source.pipe(
      reduce(
        (total, batch) => {
          let correct = 0;
          for (let row = 0; row < batchSize(batch); row++) if (rankOfTruth(batch, row) < k) correct++;
          return { correct: total.correct + correct, count: total.count + batchSize(batch) };
        },
        { correct: 0, count: 0 },
      ),
      map(({ correct, count }) => (count === 0 ? Number.NaN : correct / count)),
    );
}

/** How many classes rank before the true one: higher scores, or equal scores of lower index (argmax's tie rule). */
function rankOfTruth(batch: PredictionBatch, row: number): number {
  const offset = row * batch.classes;
  const truth = batch.labels[row]!;
  const score = batch.scores[offset + truth]!;
  let before = 0;
  for (let c = 0; c < batch.classes; c++) {
    const other = batch.scores[offset + c]!;
    if (other > score || (other === score && c < truth)) before++;
  }
  return before;
}
