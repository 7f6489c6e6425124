import { accuracy, type ConfusionMatrix, confusionMatrix, meanLoss } from '@rxvision/metrics';
import type { Pending, TensorBatch } from '@rxvision/stream';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { connect, forkJoin, type Observable } from 'rxjs';
import { predictions } from './predictions.js';

export interface Evaluation {
  /** Mean per-sample loss over the whole split (not the mean of per-batch means). */
  readonly loss: number;
  readonly accuracy: number;
  readonly confusion: ConfusionMatrix;
}

/** Loss, accuracy and confusion matrix of `model` over one pass of `batches`. */
export function evaluate(model: LayersModel, batches: Observable<Pending<TensorBatch>>): Observable<Evaluation> {
  const classes = (model.outputs[0]!.shape as number[])[1]!;
  return batches.pipe(
    predictions(model),
    connect((shared) => forkJoin({ loss: shared.pipe(meanLoss()), accuracy: shared.pipe(accuracy()), confusion: shared.pipe(confusionMatrix(classes)) })),
  );
}
