import { map, type Observable, reduce } from 'rxjs';
import { batchSize, type PredictionBatch } from './prediction-batch.js';

/**
 * Mean per-sample loss over the whole stream. Weighting by rows means a short last batch counts
 * for its rows only (averaging per-batch means, as the PyTorch tutorial does, would overweight it).
 */
export function meanLoss() {
  return (source: Observable<PredictionBatch>): Observable<number> =>
    source.pipe(
      reduce(
        (total, batch) => {
          if (batch.lossSum === undefined) throw new TypeError('meanLoss needs prediction batches with lossSum');
          return { sum: total.sum + batch.lossSum, count: total.count + batchSize(batch) };
        },
        { sum: 0, count: 0 },
      ),
      map(({ sum, count }) => (count === 0 ? Number.NaN : sum / count)),
    );
}
