import { map, type Observable, reduce } from 'rxjs';
import { batchSize, predictedClass, type PredictionBatch } from './prediction-batch.js';

/** One of the samples a model gets most wrong. */
export interface TopLoss {
  /** Its dataset row (the batch's `rows`), else its place in the stream. */
  readonly row: number;
  readonly label: number;
  readonly predicted: number;
  /** The probability the model gave the class it predicted, and the true class. */
  readonly probability: number;
  readonly trueProbability: number;
  /** Softmax cross-entropy of the sample: −log(trueProbability). */
  readonly loss: number;
}

/**
 * The `count` samples with the highest loss over the stream, highest first (fastai's
 * `plot_top_losses`); the earlier sample first on ties. Scores are logits, as `predictions` gives
 * them; each row's loss is computed from them in float64 (log-sum-exp), whatever loss trained.
 */
export function topLosses(count: number) {
  if (!(Number.isInteger(count) && count >= 1)) throw new RangeError(`topLosses: count must be a whole number ≥ 1, got ${count}`);
  return (source: Observable<PredictionBatch>): Observable<TopLoss[]> =>
    source.pipe(
      reduce(
        ({ kept, seen }, batch) => {
          const rows = [...kept];
          for (let i = 0; i < batchSize(batch); i++) rows.push(sampleLoss(batch, i, batch.rows?.[i] ?? seen + i));
          // Stable: among equal losses the earlier sample stays first.
          rows.sort((a, b) => b.loss - a.loss);
          return { kept: rows.slice(0, count), seen: seen + batchSize(batch) };
        },
        { kept: [] as TopLoss[], seen: 0 },
      ),
      map(({ kept }) => kept),
    );
}

function sampleLoss(batch: PredictionBatch, i: number, row: number): TopLoss {
  const scores = batch.scores.subarray(i * batch.classes, (i + 1) * batch.classes);
  const max = Math.max(...scores);
  let sum = 0;
  for (const score of scores) sum += Math.exp(score - max);
  const logProbability = (c: number) => scores[c]! - max - Math.log(sum);
  const [label, predicted] = [batch.labels[i]!, predictedClass(batch, i)];
  return {
    row,
    label,
    predicted,
    probability: Math.exp(logProbability(predicted)),
    trueProbability: Math.exp(logProbability(label)),
    loss: -logProbability(label),
  };
}
