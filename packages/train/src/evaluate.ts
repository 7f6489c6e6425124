import {
  accuracy,
  type ConfusionMatrix,
  confusionMatrix,
  meanLoss,
  type PredictionBatch,
  type TopLoss,
  topLosses,
} from '@rxvision/metrics';
import type { Pending, TensorBatch } from '@rxvision/stream';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { connect, forkJoin, type Observable, of } from 'rxjs';
import type { Loss } from './loss.js';
import { predictions } from './predictions.js';
import type { TestTimeAugmentation } from './test-time-augmentation.js';

export interface Evaluation {
  /** Mean per-sample loss over the whole split (not the mean of per-batch means). */
  readonly loss: number;
  readonly accuracy: number;
  readonly confusion: ConfusionMatrix;
  /** The extra metrics asked for, by name. */
  readonly metrics: Readonly<Record<string, number>>;
  /** With `topLossCount`: the samples with the highest loss, highest first, by dataset row. */
  readonly topLosses?: readonly TopLoss[];
}

/** A metric over a split: an operator of `@rxvision/metrics` (`topKAccuracy(5)`) or your own. */
export type Metric = (predictions: Observable<PredictionBatch>) => Observable<number>;

/**
 * Loss, accuracy, confusion matrix and any extra `metrics` of `model` over one pass of `batches`;
 * the loss is `loss`'s (default plain softmax cross-entropy), averaged per sample. With
 * `augmentation` (`mirror`, `mirror-translate`), every figure is that of the augmented logits.
 * `topLossCount` > 0 also keeps that many of the samples the model gets most wrong.
 */
export function evaluate(
  model: LayersModel,
  batches: Observable<Pending<TensorBatch>>,
  metrics: Readonly<Record<string, Metric>> = {},
  loss?: Loss,
  augmentation: TestTimeAugmentation = 'none',
  topLossCount = 0,
): Observable<Evaluation> {
  const classes = (model.outputs[0]!.shape as number[])[1]!;
  return batches.pipe(
    predictions(model, loss, augmentation),
    connect((shared) => {
      const extra = Object.entries(metrics);
      // forkJoin of nothing completes without a value: no extra metrics is an empty record.
      const named = extra.length === 0 ? of({}) : forkJoin(Object.fromEntries(extra.map(([name, metric]) => [name, shared.pipe(metric)])));
      return forkJoin({
        loss: shared.pipe(meanLoss()),
        accuracy: shared.pipe(accuracy()),
        confusion: shared.pipe(confusionMatrix(classes)),
        metrics: named,
        ...(topLossCount > 0 && { topLosses: shared.pipe(topLosses(topLossCount)) }),
      });
    }),
  );
}
