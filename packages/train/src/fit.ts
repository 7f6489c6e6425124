import type { EpochRecord } from '@rxvision/metrics';
import type { Pending, TensorBatch } from '@rxvision/stream';
import { losses, oneHot, type Optimizer, type Scalar, type Tensor, train } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { concat, concatMap, defer, from, map, Observable, of } from 'rxjs';
import { evaluate } from './evaluate.js';
import type { Schedule } from './schedule.js';
import type { BatchEnd, TrainingEvent } from './training-event.js';

export interface FitOptions {
  /** Phases run one after another on the same model, as successive calls of the tutorial's fit. */
  readonly schedule: Schedule;
  /** One epoch's training batches; called once per epoch with the 0-based epoch number. */
  readonly trainBatches: (epoch: number) => Observable<Pending<TensorBatch>>;
  /** The validation batches, evaluated after each epoch. */
  readonly validationBatches?: () => Observable<Pending<TensorBatch>>;
  /** Makes a phase's optimizer; default plain SGD (no momentum), as in the tutorial. */
  readonly optimizer?: (learningRate: number) => Optimizer;
}

/**
 * Trains `model` and reports progress as events: one per step, one per epoch, then the history.
 * Nothing runs until subscribed; unsubscribing stops after the current step, and every tensor
 * created on the way is disposed.
 */
export function fit(model: LayersModel, options: FitOptions): Observable<TrainingEvent> {
  const makeOptimizer = options.optimizer ?? ((learningRate: number) => train.sgd(learningRate));
  return new Observable<TrainingEvent>((subscriber) => {
    const history: EpochRecord[] = [];
    let optimizer: { phase: number; instance: Optimizer } | undefined;
    const optimizerFor = (phase: number): Optimizer => {
      if (optimizer?.phase !== phase) {
        optimizer?.instance.dispose();
        optimizer = { phase, instance: makeOptimizer(options.schedule[phase]!.learningRate) };
      }
      return optimizer.instance;
    };
    const epochs = options.schedule.flatMap((phase, index) => Array.from({ length: phase.epochs }, () => index));
    const run = from(epochs.map((phase, index) => ({ phase, epoch: index + 1 }))).pipe(
      concatMap(({ phase, epoch }) =>
        runEpoch(model, options, epoch, phase, () => optimizerFor(phase), (record) => history.push(record)),
      ),
    );
    subscriber.add(concat(run, defer(() => of<TrainingEvent>({ type: 'end', history: [...history] }))).subscribe(subscriber));
    subscriber.add(() => optimizer?.instance.dispose());
  });
}

function runEpoch(
  model: LayersModel,
  options: FitOptions,
  epoch: number,
  phase: number,
  optimizer: () => Optimizer,
  record: (row: EpochRecord) => void,
): Observable<TrainingEvent> {
  return defer(() => {
    const started = performance.now();
    let lossSum = 0;
    let samples = 0;
    let step = 0;
    // Pull and step in one concatMap: the next batch is pulled only once this step is done.
    const steps = options.trainBatches(epoch - 1).pipe(
      concatMap((pending) =>
        pending.pipe(
          concatMap(async (batch): Promise<BatchEnd> => {
            try {
              const loss = await trainStep(model, optimizer(), batch);
              lossSum += loss * batch.size;
              samples += batch.size;
              return { type: 'batch', epoch, phase, step: ++step, size: batch.size, loss };
            } finally {
              batch.dispose();
            }
          }),
        ),
      ),
    );
    const validation = options.validationBatches ? evaluate(model, options.validationBatches()) : of(undefined);
    const epochEnd = defer(() => validation).pipe(
      map((result): TrainingEvent => {
        const row: EpochRecord = {
          epoch,
          phase,
          learningRate: options.schedule[phase]!.learningRate,
          trainLoss: lossSum / samples,
          valLoss: result?.loss ?? Number.NaN,
          valAccuracy: result?.accuracy ?? Number.NaN,
          seconds: (performance.now() - started) / 1000,
        };
        record(row);
        return { type: 'epoch', record: row };
      }),
    );
    return concat(steps, epochEnd);
  });
}

/** One SGD step on the batch's mean softmax cross-entropy; returns that loss. */
async function trainStep(model: LayersModel, optimizer: Optimizer, batch: TensorBatch): Promise<number> {
  const loss = optimizer.minimize(() => {
    const logits = model.apply(batch.xs, { training: true }) as Tensor;
    const targets = batch.ys.rank === 1 ? oneHot(batch.ys, logits.shape[1]!) : batch.ys;
    return losses.softmaxCrossEntropy(targets, logits) as Scalar;
  }, true) as Scalar;
  try {
    const value = (await loss.data())[0]!;
    // On wasm and cpu, data() resolves as a microtask, so a whole epoch would run without ever
    // giving timers, file writes or signal handlers a turn. Yield to the event loop once a step.
    await new Promise((resolve) => setTimeout(resolve, 0));
    return value;
  } finally {
    loss.dispose();
  }
}
