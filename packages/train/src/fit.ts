// Over 250 lines: fit's epoch loop and runEpoch's step loop share one context (optimizer, stop state,
// kept weights, lookahead); read top to bottom, fit first.
import type { EpochRecord } from '@rxvision/metrics';
import type { Pending, TensorBatch } from '@rxvision/stream';
import { dispose, oneHot, type Scalar, type Tensor } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { concat, concatMap, defer, EMPTY, finalize, from, ignoreElements, mergeAll, Observable, of, Subject, takeUntil } from 'rxjs';
import { type Evaluation, evaluate, type Metric } from './evaluate.js';
import {
  asSchedule,
  changesEachStep,
  checkSchedule,
  type LearningRateSchedule,
  learningRateAt,
  phaseAt,
  scheduleEpochs,
} from './learning-rate.js';
import { type Loss, softmaxCrossEntropy } from './loss.js';
import { type OptimizerSpec, type ParameterGroup, PLAIN_SGD, TrainingOptimizer } from './optimizer.js';
import type { Schedule } from './schedule.js';
import { beforeEpoch, type EpochDecision } from './epoch-policy.js';
import { bestEpoch, checkStopping, type EndReason, keptBest, type StoppingOptions, type Watched } from './stopping.js';
import type { BatchEnd, TrainingEvent } from './training-event.js';
import type { TestTimeAugmentation } from './test-time-augmentation.js';
import { holdFrozenBatchNorms } from './frozen-batch-norms.js';
import { Lookahead, type LookaheadOptions } from './lookahead.js';
import { type EmaOptions, WeightEma } from './weight-ema.js';
import { checkAccumulateBatches, GradientAccumulation } from './gradient-accumulation.js';
import {
  type BestWeights,
  NonFiniteLossError,
  ResumeError,
  type ResumeFrom,
  disposeResume,
  resumeProblem,
  START,
  type TrainingPosition,
  type TrainingState,
} from './training-state.js';

export interface FitOptions extends StoppingOptions {
  /**
   * The learning rate over the run: phases run one after another on the same model, as successive
   * calls of the tutorial's fit (`[{ epochs, learningRate }, …]`), or a per-step schedule.
   */
  readonly schedule: Schedule | LearningRateSchedule;
  /** Steps in each epoch, for schedules that change the rate within an epoch; default `trainBatches.stepsPerEpoch` (`epochBatches` tells it). */
  readonly stepsPerEpoch?: number;
  /**
   * One epoch's training batches, called once per epoch with the 0-based epoch number and, when
   * resuming mid-epoch, the number of leading batches to leave out (`epochBatches` does both).
   */
  readonly trainBatches: ((epoch: number, skipBatches: number) => Observable<Pending<TensorBatch>>) & { readonly stepsPerEpoch?: number };
  /** The validation batches, evaluated after each epoch. */
  readonly validationBatches?: () => Observable<Pending<TensorBatch>>;
  /** Extra validation metrics by name (`{ top5: topKAccuracy(5) }`), added to each epoch record. */
  readonly metrics?: Readonly<Record<string, Metric>>;
  /** The optimizer, one for the whole run (its state carries across phases); default plain SGD, as in the tutorial. */
  readonly optimizer?: OptimizerSpec;
  /** Lookahead (airbench): an average of the weights the weights are reset to every few steps, and become at the end; kept in checkpoints. */
  readonly lookahead?: LookaheadOptions;
  /** An exponential moving average of the weights (timm's ModelEma): validated, kept as the best and taken at the end; kept in checkpoints. */
  readonly ema?: EmaOptions;
  /**
   * Batches whose gradients are summed before one optimizer step, as their mean (default 1): an
   * effective batch that many times larger. A stop waits for the group to end.
   */
  readonly accumulateBatches?: number;
  /** Settings for some weights, matched by name (`LAYER/WEIGHT`): a learning-rate scale, a weight decay, epochs trained. */
  readonly parameterGroups?: readonly ParameterGroup[];
  /** The training loss, on the model's logits; default softmax cross-entropy. */
  readonly loss?: Loss;
  /**
   * The loss of the validation record (`valLoss`): default plain softmax cross-entropy, whatever
   * trains (so that runs with and without label smoothing compare); give your own loss here to
   * validate with it.
   */
  readonly validationLoss?: Loss;
  /** Test-time augmentation of the validation record (`mirror`, `mirror-translate`); default none. */
  readonly testTimeAugmentation?: TestTimeAugmentation;
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
export function fit(model: LayersModel, given: FitOptions): Observable<TrainingEvent> {
  const options: FitOptions = { ...given, stepsPerEpoch: given.stepsPerEpoch ?? given.trainBatches.stepsPerEpoch };
  const schedule = asSchedule(options.schedule);
  const start = options.resume?.position ?? START;
  return new Observable<TrainingEvent>((subscriber) => {
    // The resumed state's tensors are ours from here, disposed once copied into place or at teardown.
    // The optimizer's copy is asynchronous: what it reads from or writes to goes once it has settled.
    let copying: Promise<void> | undefined;
    const afterCopy = (release: () => void) => (copying ? void copying.then(release, release) : release());
    subscriber.add(() => afterCopy(() => disposeResume(options.resume)));
    checkSchedule(schedule);
    checkStopping(options);
    const problem = options.resume && resumeProblem(options.resume, scheduleEpochs(schedule), options.stepsPerEpoch);
    if (problem) throw new ResumeError(`cannot resume at epoch ${start.epoch}, step ${start.step}: ${problem}`);
    if (changesEachStep(schedule) && !(Number.isInteger(options.stepsPerEpoch) && options.stepsPerEpoch! > 0)) {
      throw new RangeError(
        `the ${schedule.type} schedule changes the rate at every step: fit needs stepsPerEpoch, got ${options.stepsPerEpoch}`,
      );
    }
    const history: EpochRecord[] = [...(options.resume?.history ?? [])];
    if (schedule.type === 'plateau' && /^val/.test(schedule.monitor ?? 'valLoss') && !options.validationBatches)
      throw new RangeError(`the plateau schedule watches ${schedule.monitor ?? 'valLoss'}: fit needs validationBatches`);
    const stop = { requested: false, pausedBy: undefined as 'scheduler' | undefined, position: undefined as TrainingPosition | undefined };
    const optimizer = new TrainingOptimizer(
      options.optimizer ?? PLAIN_SGD,
      learningRateAt(schedule, start.epoch, start.step, options.stepsPerEpoch, history),
    );
    subscriber.add(() => afterCopy(() => optimizer.dispose()));
    if (options.parameterGroups) {
      optimizer.setGroups(groupsOf(model, options.parameterGroups));
      subscriber.add(() => holdFrozenBatchNorms(model, () => false)); // every batch norm trains again after fit
    }
    if (options.lookahead && !(Number.isInteger(options.stepsPerEpoch) && options.stepsPerEpoch! > 0))
      throw new RangeError(`lookahead counts steps: fit needs stepsPerEpoch, got ${options.stepsPerEpoch}`);
    const lookahead =
      options.lookahead &&
      new Lookahead(model, options.lookahead, scheduleEpochs(schedule) * options.stepsPerEpoch!, options.resume?.lookahead);
    if (lookahead) subscriber.add(() => lookahead.dispose());
    const ema = options.ema && new WeightEma(model, options.ema, options.resume?.ema);
    if (ema) subscriber.add(() => ema.dispose());
    checkAccumulateBatches(options.accumulateBatches ?? 1);
    if (lookahead && (options.accumulateBatches ?? 1) > 1)
      throw new RangeError('lookahead counts optimizer steps and accumulateBatches groups them: use one or the other');
    const saved = options.resume?.optimizerWeights;
    copying = saved && saved.length > 0 ? optimizer.setWeights(saved) : undefined;
    const restored = (copying ?? Promise.resolve()).then(() => {
      copying = undefined;
      disposeResume(options.resume);
    });
    restored.catch(() => undefined); // heard by the first step; unsubscribed before it, by nobody
    if (options.stop) subscriber.add(options.stop.subscribe(() => (stop.requested = true)));
    // keepBest's copy of the best epoch's weights, ours to dispose; a resumed run starts from the checkpoint's.
    const resumedBest = options.resume?.best;
    const kept: KeptBest = {
      watched: keptBest(options),
      best: resumedBest && { epoch: resumedBest.epoch, weights: resumedBest.weights.map((w) => w.clone()) },
    };
    subscriber.add(() => kept.best && dispose([...kept.best.weights]));
    let ended: EndReason | undefined;
    let decided: EpochDecision | undefined;

    const epochs = Array.from({ length: scheduleEpochs(schedule) }, (_, index) => ({
      epoch: index + 1,
      phase: phaseAt(schedule, index + 1),
    })).filter(({ epoch }) => epoch >= start.epoch);
    const context: EpochContext = {
      model,
      options,
      schedule,
      optimizer,
      restored,
      loss: options.loss ?? softmaxCrossEntropy(),
      history,
      stop,
      kept,
      lookahead,
      ema,
    };
    const run = from(epochs).pipe(
      concatMap(({ phase, epoch }) =>
        defer(async () => {
          // The epoch policy; an end or a pause, once decided, holds for the epochs left. Never asked
          // inside an epoch a resumed run finishes.
          const atEpochStart = epoch !== start.epoch || start.step === 0;
          const decision = decided ?? (await beforeEpoch(history, options, { requested: stop.requested, atEpochStart }));
          if (decision.action === 'continue') return runEpoch(context, epoch, phase, epoch === start.epoch ? start : { ...START, epoch });
          decided = decision;
          if (decision.action === 'end') {
            ended = decision.reason;
            return EMPTY;
          }
          if (decision.by === 'scheduler') stop.pausedBy = 'scheduler';
          // Stopped between epochs: the checkpoint of the epoch just ended already says where we are.
          stop.position ??= { ...START, epoch };
          return EMPTY;
        }).pipe(mergeAll()),
      ),
    );
    const last = defer(() => {
      if (stop.position) return of<TrainingEvent>({ type: 'stopped', position: stop.position, by: stop.pausedBy ?? 'request' });
      lookahead?.finish();
      ema?.finish();
      if (kept.watched && kept.best) model.setWeights([...kept.best.weights]);
      return of<TrainingEvent>({
        type: 'end',
        history: [...history],
        reason: ended ?? 'completed',
        ...(kept.watched && kept.best && { bestEpoch: kept.best.epoch }),
      });
    });
    subscriber.add(concat(run, last).subscribe(subscriber));
  });
}

/** Each trainable weight's group (the first whose pattern its name matches), by variable name; a group that matches nothing is refused. */
function groupsOf(model: LayersModel, groups: readonly ParameterGroup[]): Map<string, ParameterGroup> {
  const weights = model.trainableWeights.map((weight) => ({
    variable: weight.name,
    name: (weight as { originalName?: string }).originalName ?? weight.name,
  }));
  const patterns = groups.map((group) => {
    try {
      return new RegExp(group.match);
    } catch (error) {
      throw new RangeError(`parameter group ${JSON.stringify(group.match)}: not a regular expression (${(error as Error).message})`);
    }
  });
  const byVariable = new Map<string, ParameterGroup>();
  for (const { variable, name } of weights) {
    const index = patterns.findIndex((pattern) => pattern.test(name));
    if (index >= 0) byVariable.set(variable, groups[index]!);
  }
  const unused = groups.find((group) => ![...byVariable.values()].includes(group));
  if (unused)
    throw new RangeError(
      `parameter group ${JSON.stringify(unused.match)} matches no trainable weight of ${model.name} (${weights.map((w) => w.name).join(', ')})`,
    );
  return byVariable;
}

interface EpochContext {
  readonly model: LayersModel;
  readonly options: FitOptions;
  readonly schedule: LearningRateSchedule;
  readonly optimizer: TrainingOptimizer;
  /** Settles once a resumed optimizer state is in place. */
  readonly restored: Promise<void>;
  readonly loss: Loss;
  readonly lookahead: Lookahead | undefined;
  readonly ema: WeightEma | undefined;
  readonly history: EpochRecord[];
  readonly stop: { requested: boolean; position: TrainingPosition | undefined };
  readonly kept: KeptBest;
}

/** What keepBest watches, and the best epoch's weights so far. */
interface KeptBest {
  readonly watched: Watched | undefined;
  best: BestWeights | undefined;
}

function runEpoch(context: EpochContext, epoch: number, phase: number, resumeAt: TrainingPosition): Observable<TrainingEvent> {
  const { model, options, schedule, optimizer, restored, loss: lossOf, history, stop, kept, lookahead, ema } = context;
  return defer(() => {
    const every = options.accumulateBatches ?? 1;
    const accumulation = every > 1 ? new GradientAccumulation(every) : undefined;
    optimizer.setEpoch(epoch);
    if (options.parameterGroups) holdFrozenBatchNorms(model, (variable) => optimizer.isFrozen(variable));
    const started = performance.now() - resumeAt.seconds * 1000;
    let { lossSum, samples, step } = resumeAt;
    let queued = resumeAt.step; // steps queued, one ahead of `step` while a loss is in flight
    let learningRate = learningRateAt(schedule, epoch, queued, options.stepsPerEpoch, history);
    const seconds = (): number => (performance.now() - started) / 1000;
    const position = (): TrainingPosition => ({ epoch, step, lossSum, samples, seconds: seconds() });
    // Pull and step in one concatMap: the next batch is pulled only once this step is done. On a
    // stop request, end the stream after the step in progress; unsubscribing from the batches
    // disposes whatever they had prepared ahead.
    const stopNow = new Subject<void>();
    // Each step's loss is read only after the next step is queued, so a GPU backend always has work
    // (reading it at once stalled the queue every step). Same values, same order; the last step is
    // read before the epoch ends or stops.
    let inFlight: QueuedStep | undefined;
    const readStep = async (queuedStep: QueuedStep): Promise<BatchEnd> => {
      let loss: number;
      try {
        loss = (await queuedStep.loss.data())[0]!;
      } finally {
        queuedStep.loss.dispose();
      }
      // On wasm and cpu, data() resolves as a microtask, so a whole epoch would run without ever
      // giving timers, file writes or signal handlers a turn. Yield to the event loop once a step.
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (!Number.isFinite(loss)) throw new NonFiniteLossError(epoch, step + 1, loss);
      lossSum += loss * queuedStep.size;
      samples += queuedStep.size;
      return { type: 'batch', epoch, phase, step: ++step, size: queuedStep.size, loss, learningRate: queuedStep.learningRate };
    };
    const readInFlight = (): Observable<BatchEnd> =>
      defer(() => {
        const queuedStep = inFlight;
        inFlight = undefined;
        return queuedStep ? from(readStep(queuedStep)) : EMPTY;
      });
    const steps = options.trainBatches(epoch - 1, resumeAt.step).pipe(
      concatMap((pending) => {
        if (stop.requested && !accumulation?.pending) {
          stopNow.next();
          return EMPTY;
        }
        return pending.pipe(
          concatMap((batch) =>
            defer(async () => {
              try {
                await restored;
                learningRate = learningRateAt(schedule, epoch, queued++, options.stepsPerEpoch, history);
                optimizer.setLearningRate(learningRate);
                if (!accumulation) {
                  const loss = queueStep(model, optimizer, lossOf, batch);
                  lookahead?.afterStep((epoch - 1) * options.stepsPerEpoch! + queued);
                  ema?.afterStep();
                  return loss;
                }
                const { loss, applied } = accumulation.add(optimizer, () => batchLoss(model, lossOf, batch));
                if (applied) ema?.afterStep();
                return loss;
              } finally {
                batch.dispose(); // backends keep what queued work still reads
              }
            }).pipe(
              concatMap((loss) => {
                const previous = readInFlight();
                inFlight = { loss, size: batch.size, learningRate };
                return previous;
              }),
            ),
          ),
        );
      }),
      takeUntil(stopNow),
    );
    // A group the epoch's end cut short is applied before the epoch ends.
    const flushed = defer(() => {
      if (accumulation?.flush(optimizer)) ema?.afterStep();
      return readInFlight();
    });
    const drained = concat(steps, flushed).pipe(
      finalize(() => {
        inFlight?.loss.dispose();
        accumulation?.dispose();
      }),
    );
    const epochEnd = defer((): Observable<TrainingEvent> => {
      if (stop.requested) {
        const at = position();
        stop.position = at;
        return defer(async () =>
          options.checkpoint?.({
            position: at,
            history: [...history],
            optimizer,
            reason: 'stop',
            ...(kept.best && { best: kept.best }),
            ...(lookahead && { lookahead: lookahead.weights }),
            ...(ema && { ema: ema.weights }),
          }),
        ).pipe(ignoreElements());
      }
      const validate = () =>
        evaluate(model, options.validationBatches!(), options.metrics, options.validationLoss, options.testTimeAugmentation);
      const validation: Observable<Evaluation | undefined> = options.validationBatches
        ? (ema?.applied(validate) ?? validate())
        : of(undefined);
      return validation.pipe(
        concatMap(async (result): Promise<TrainingEvent> => {
          const row: EpochRecord = {
            epoch,
            phase,
            learningRate,
            trainLoss: lossSum / samples,
            valLoss: result?.loss ?? Number.NaN,
            valAccuracy: result?.accuracy ?? Number.NaN,
            ...(options.metrics && result && { metrics: result.metrics }),
            seconds: seconds(),
          };
          history.push(row);
          if (kept.watched && bestEpoch(history, kept.watched)!.epoch === epoch) {
            if (kept.best) dispose([...kept.best.weights]);
            // The weights validated: the average's where there is one (model.weights' order is getWeights').
            kept.best = { epoch, weights: (ema?.weights ?? model.getWeights()).map((weight) => weight.clone()) };
          }
          const next: TrainingPosition = { ...START, epoch: epoch + 1 };
          await options.checkpoint?.({
            position: next,
            history: [...history],
            optimizer,
            reason: 'epoch',
            ...(kept.best && { best: kept.best }),
            ...(lookahead && { lookahead: lookahead.weights }),
            ...(ema && { ema: ema.weights }),
          });
          return { type: 'epoch', record: row };
        }),
      );
    });
    return concat(drained, epochEnd);
  });
}

interface QueuedStep {
  readonly loss: Scalar;
  readonly size: number;
  readonly learningRate: number;
}

/** Queues one optimizer step on the batch's loss; returns the loss, not yet read (the LR finder steps with it too). */
export function queueStep(model: LayersModel, optimizer: TrainingOptimizer, loss: Loss, batch: TensorBatch): Scalar {
  return optimizer.minimize(() => batchLoss(model, loss, batch), true) as Scalar;
}

/** The training loss of one batch: a forward pass in training mode against its targets (one-hot from labels). */
function batchLoss(model: LayersModel, loss: Loss, batch: TensorBatch): Scalar {
  const logits = model.apply(batch.xs, { training: true }) as Tensor;
  const targets = batch.ys.rank === 1 ? oneHot(batch.ys, logits.shape[1]!) : batch.ys;
  return loss(targets, logits);
}
