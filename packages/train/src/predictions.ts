import type { PredictionBatch } from '@rxvision/metrics';
import type { Pending, TensorBatch } from '@rxvision/stream';
import { losses, mul, oneHot, Reduction, tidy } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { concatMap, type Observable } from 'rxjs';
import type { Loss } from './loss.js';
import { augmentedLogits, type TestTimeAugmentation } from './test-time-augmentation.js';

/**
 * Runs the model over pulled batches and copies scores and summed per-sample loss to the host,
 * disposing every tensor it or the batch created. `loss` (default softmax cross-entropy) is a
 * batch mean, as training's: its sum is the mean times the batch's size. With a test-time
 * augmentation, the scores (and the loss) are those of the augmented logits.
 */
export function predictions(model: LayersModel, loss?: Loss, augmentation: TestTimeAugmentation = 'none') {
  return (batches: Observable<Pending<TensorBatch>>): Observable<PredictionBatch> =>
    // Pull and predict in one concatMap, so the next batch is read only after this one.
    batches.pipe(concatMap((pending) => pending.pipe(concatMap((batch) => predict(model, batch, loss, augmentation)))));
}

async function predict(
  model: LayersModel,
  batch: TensorBatch,
  loss: Loss | undefined,
  augmentation: TestTimeAugmentation,
): Promise<PredictionBatch> {
  try {
    const [scores, lossSum] = tidy(() => {
      const logits = augmentedLogits(model, batch.xs, augmentation);
      const targets = batch.ys.rank === 1 ? oneHot(batch.ys, logits.shape[1]!) : batch.ys;
      // The default summed directly, as it always was: the recorded digits of every run stay the same.
      return [
        logits,
        loss ? mul(loss(targets, logits), batch.size) : losses.softmaxCrossEntropy(targets, logits, undefined, undefined, Reduction.SUM),
      ];
    });
    try {
      const [scoreData, lossData] = await Promise.all([scores.data(), lossSum.data()]);
      return {
        scores: scoreData as Float32Array,
        labels: batch.labels,
        ...(batch.targets && { targets: batch.targets }),
        rows: batch.rows,
        classes: scores.shape[1]!,
        lossSum: lossData[0]!,
      };
    } finally {
      scores.dispose();
      lossSum.dispose();
    }
  } finally {
    batch.dispose();
  }
}
