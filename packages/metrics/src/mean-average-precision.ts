import { map, type Observable, reduce } from 'rxjs';
import { batchSize, type PredictionBatch } from './prediction-batch.js';

/**
 * Average precision of one class, as scikit-learn's average_precision_score: the precision at each
 * distinct score (highest first; tied scores are one threshold), weighted by the recall it adds.
 * NaN where no sample is positive.
 */
export function averagePrecision(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  const order = Array.from(scores, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const positives = order.filter((i) => positive[i]).length;
  if (positives === 0) return Number.NaN;
  let [found, counted, sum] = [0, 0, 0];
  for (let k = 0; k < order.length; k++) {
    if (positive[order[k]!]) found++;
    // Only at the end of a run of tied scores: the run is one threshold.
    if (k + 1 < order.length && scores[order[k + 1]!] === scores[order[k]!]) continue;
    sum += (found - counted) * (found / (k + 1));
    counted = found;
  }
  return sum / positives;
}

/**
 * Mean over classes of each class's average precision over the whole stream, as scikit-learn's
 * average_precision_score(average='macro'): the multi-label metric, from `targets` (multi-hot); a
 * stream without them counts each row's label as its one positive. A class with no positive sample
 * is left out of the mean (it has no precision to average); NaN when no class has one.
 */
export function meanAveragePrecision() {
  return (source: Observable<PredictionBatch>): Observable<number> =>
    source.pipe(
      reduce(
        (all, batch) => {
          for (let row = 0; row < batchSize(batch); row++)
            for (let c = 0; c < batch.classes; c++) {
              (all.scores[c] ??= []).push(batch.scores[row * batch.classes + c]!);
              const positive = batch.targets ? batch.targets[row * batch.classes + c]! > 0.5 : batch.labels[row] === c;
              (all.positive[c] ??= []).push(positive);
            }
          return all;
        },
        { scores: [] as number[][], positive: [] as boolean[][] },
      ),
      map(({ scores, positive }) => {
        const precisions = scores.map((classScores, c) => averagePrecision(classScores, positive[c]!)).filter((ap) => !Number.isNaN(ap));
        return precisions.length === 0 ? Number.NaN : precisions.reduce((a, b) => a + b, 0) / precisions.length;
      }),
    );
}
