import type { EpochRecord } from '@rxvision/metrics';
import type { Pending, TensorBatch } from '@rxvision/stream';
import { losses, oneHot, type Optimizer, type Scalar, type Tensor, train } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { concat, concatMap, defer, EMPTY, finalize, from, ignoreElements, Observable, of, Subject, takeUntil } from 'rxjs';
import { type Evaluation, evaluate } from './evaluate.js';
import type { Schedule } from './schedule.js';
import type { BatchEnd, TrainingEvent } from './training-event.js';
import { NonFiniteLossError, type ResumeFrom, START, type TrainingPosition, type TrainingState } from './training-state.js';

export interface FitOptions {
  /** Phases run one after another on the same model, as successive calls of the tutorial's fit. */
  readonly schedule: Schedule;
  /**
   * One epoch's training batches, called once per epoch with the 0-based epoch number and, when
   * resuming mid-epoch, the number of leading batches to leave out (`epochBatches` does both).
   */
  readonly trainBatches: (epoch: number, skipBatches: number) => Observable<Pending<TensorBatch>>;
  /** The validation batches, evaluated after each epoch. */
  readonly validationBatches?: () => Observable<Pending<TensorBatch>>;
  /** Makes a phase's optimizer; default plain SGD (no momentum), as in the tutorial. */
  readonly optimizer?: (learningRate: number) => Optimizer;
  /** Continue a run: skips the epochs and steps already done (batch order depends on epoch only). */
  readonly resume?: ResumeFrom;
  /** Called at each epoch end and on a stop; training waits for it, so the model is not moving. */
  readonly checkpoint?: (state: TrainingState) => Promise<void> | void;
  /** When this emits, training finishes the current step, checkpoints, emits `stopped` and completes. */
  readonly stop?: Observable<unknown>;
}

/**
 * Trains `model` and reports progress as events: one per step, one per epoch, then the history.
 * Nothing runs until subscribed; unsubscribing stops after the current step, and every tensor
 * created on the way is disposed. A loss that is not finite fails the stream with
 * `NonFiniteLossError` before anything else is written.
 */
export function fit(model: LayersModel, options: FitOptions): Observable<TrainingEvent> {
  const makeOptimizer = options.optimizer ?? ((learningRate: number) => train.sgd(learningRate));
  const start = options.resume?.position ?? START;
  return new Observable<TrainingEvent>((subscriber) => {
    const history: EpochRecord[] = [...(options.resume?.history ?? [])];
    const stop = { requested: false, position: undefined as TrainingPosition | undefined };
    let current: { phase: number; instance: Optimizer } | undefined;
    const optimizerFor = async (phase: number): Promise<Optimizer> => {
      if (current?.phase !== phase) {
        current?.instance.dispose();
        const instance = makeOptimizer(options.schedule[phase]!.learningRate);
        current = { phase, instance };
        const saved = options.resume?.optimizerWeights;
        if (saved && saved.length > 0 && phaseOf(options.schedule, start.epoch) === phase) await instance.setWeights(saved);
      }
      return current.instance;
    };
    if (options.stop) subscriber.add(options.stop.subscribe(() => (stop.requested = true)));

    const epochs = options.schedule
      .flatMap((phase, index) => Array.from({ length: phase.epochs }, () => index))
      .map((phase, index) => ({ phase, epoch: index + 1 }))
      .filter(({ epoch }) => epoch >= start.epoch);
    const context: EpochContext = { model, options, optimizerFor, history, stop };
    const run = from(epochs).pipe(
      concatMap(({ phase, epoch }) => {
        if (!stop.requested) return runEpoch(context, epoch, phase, epoch === start.epoch ? start : { ...START, epoch });
        // Stopped between epochs: the checkpoint of the epoch just ended already says where we are.
        stop.position ??= { ...START, epoch };
        return EMPTY;
      }),
    );
    const last = defer(() => of<TrainingEvent>(stop.position ? { type: 'stopped', position: stop.position } : { type: 'end', history: [...history] }));
    subscriber.add(concat(run, last).subscribe(subscriber));
    subscriber.add(() => current?.instance.dispose());
  });
}

interface EpochContext {
  readonly model: LayersModel;
  readonly options: FitOptions;
  readonly optimizerFor: (phase: number) => Promise<Optimizer>;
  readonly history: EpochRecord[];
  readonly stop: { requested: boolean; position: TrainingPosition | undefined };
}

function runEpoch(context: EpochContext, epoch: number, phase: number, resumeAt: TrainingPosition): Observable<TrainingEvent> {
  const { model, options, optimizerFor, history, stop } = context;
  return defer(() => {
    const started = performance.now() - resumeAt.seconds * 1000;
    let { lossSum, samples, step } = resumeAt;
    const seconds = (): number => (performance.now() - started) / 1000;
    const position = (): TrainingPosition => ({ epoch, step, lossSum, samples, seconds: seconds() });
    // Pull and step in one concatMap: the next batch is pulled only once this step is done. On a
    // stop request, end the stream after the step in progress; unsubscribing from the batches
    // disposes whatever they had prepared ahead.
    const stopNow = new Subject<void>();
    // Each step's loss is read only after the next step is queued, so a GPU backend always has work
    // (reading it at once stalled the queue every step). Same values, same order; the last step is
    // read before the epoch ends or stops.
    let inFlight: { readonly loss: Scalar; readonly size: number } | undefined;
    const readStep = async (queued: { readonly loss: Scalar; readonly size: number }): Promise<BatchEnd> => {
      let loss: number;
      try {
        loss = (await queued.loss.data())[0]!;
      } finally {
        queued.loss.dispose();
      }
      // On wasm and cpu, data() resolves as a microtask, so a whole epoch would run without ever
      // giving timers, file writes or signal handlers a turn. Yield to the event loop once a step.
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (!Number.isFinite(loss)) throw new NonFiniteLossError(epoch, step + 1, loss);
      lossSum += loss * queued.size;
      samples += queued.size;
      return { type: 'batch', epoch, phase, step: ++step, size: queued.size, loss };
    };
    const readInFlight = (): Observable<BatchEnd> =>
      defer(() => {
        const queued = inFlight;
        inFlight = undefined;
        return queued ? from(readStep(queued)) : EMPTY;
      });
    const steps = options.trainBatches(epoch - 1, resumeAt.step).pipe(
      concatMap((pending) => {
        if (stop.requested) {
          stopNow.next();
          return EMPTY;
        }
        return pending.pipe(
          concatMap((batch) =>
            defer(async () => {
              try {
                return queueStep(model, await optimizerFor(phase), batch);
              } finally {
                batch.dispose(); // backends keep what queued work still reads
              }
            }).pipe(
              concatMap((loss) => {
                const previous = readInFlight();
                inFlight = { loss, size: batch.size };
                return previous;
              }),
            ),
          ),
        );
      }),
      takeUntil(stopNow),
    );
    const drained = concat(steps, readInFlight()).pipe(finalize(() => inFlight?.loss.dispose()));
    const epochEnd = defer((): Observable<TrainingEvent> => {
      if (stop.requested) {
        const at = position();
        stop.position = at;
        return defer(async () => options.checkpoint?.({ position: at, history: [...history], optimizer: await optimizerFor(phase), reason: 'stop' })).pipe(ignoreElements());
      }
      const validation: Observable<Evaluation | undefined> = options.validationBatches ? evaluate(model, options.validationBatches()) : of(undefined);
      return validation.pipe(
        concatMap(async (result): Promise<TrainingEvent> => {
          const row: EpochRecord = {
            epoch,
            phase,
            learningRate: options.schedule[phase]!.learningRate,
            trainLoss: lossSum / samples,
            valLoss: result?.loss ?? Number.NaN,
            valAccuracy: result?.accuracy ?? Number.NaN,
            seconds: seconds(),
          };
          history.push(row);
          const next: TrainingPosition = { ...START, epoch: epoch + 1 };
          await options.checkpoint?.({ position: next, history: [...history], optimizer: await optimizerFor(phase), reason: 'epoch' });
          return { type: 'epoch', record: row };
        }),
      );
    });
    return concat(drained, epochEnd);
  });
}

function phaseOf(schedule: Schedule, epoch: number): number {
  let end = 0;
  for (const [index, phase] of schedule.entries()) {
    end += phase.epochs;
    if (epoch <= end) return index;
  }
  return schedule.length - 1;
}

/** Queues one optimizer step on the batch's mean softmax cross-entropy; returns the loss, not yet read. */
function queueStep(model: LayersModel, optimizer: Optimizer, batch: TensorBatch): Scalar {
  return optimizer.minimize(() => {
    const logits = model.apply(batch.xs, { training: true }) as Tensor;
    const targets = batch.ys.rank === 1 ? oneHot(batch.ys, logits.shape[1]!) : batch.ys;
    return losses.softmaxCrossEntropy(targets, logits) as Scalar;
  }, true) as Scalar;
}
