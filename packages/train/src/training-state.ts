import type { EpochRecord } from '@rxvision/metrics';
import { dispose, type Optimizer, type Tensor } from '@tensorflow/tfjs-core';
import { RxvisionError } from '@rxvision/errors';

/** What `Optimizer.getWeights()` returns (tfjs-core does not export the type by name). */
export type OptimizerWeights = Awaited<ReturnType<Optimizer['getWeights']>>;

/** Where a run stands: enough to continue it exactly where it stopped. */
export interface TrainingPosition {
  /** The 1-based epoch to run or continue next. */
  readonly epoch: number;
  /** Steps of that epoch already done (0 at an epoch boundary). */
  readonly step: number;
  /** Sum of per-sample training losses and sample count of the done steps of that epoch. */
  readonly lossSum: number;
  readonly samples: number;
  /** Seconds already spent in that epoch, so its record reports the whole epoch. */
  readonly seconds: number;
}

export const START: TrainingPosition = { epoch: 1, step: 0, lossSum: 0, samples: 0, seconds: 0 };

/** What a checkpoint needs; handed to `FitOptions.checkpoint`, which fit awaits before going on. */
export interface TrainingState {
  readonly position: TrainingPosition;
  readonly history: readonly EpochRecord[];
  /** The run's optimizer (its `getWeights()` is its state: moments, momentum, iterations). */
  readonly optimizer: Optimizer;
  /** Why the checkpoint is taken. */
  readonly reason: 'epoch' | 'stop';
  /** With `keepBest`: the best epoch so far and its weights (in `model.getWeights()` order), to keep with the checkpoint. */
  readonly best?: BestWeights;
  /** With `lookahead`: the average of the weights (in `model.weights` order), to keep with the checkpoint. */
  readonly lookahead?: readonly Tensor[];
  /** With `ema`: the moving average of the weights (in `model.weights` order), to keep with the checkpoint. */
  readonly ema?: readonly Tensor[];
}

/** The weights of the best epoch so far, as `keepBest` keeps them. */
export interface BestWeights {
  readonly epoch: number;
  readonly weights: readonly Tensor[];
}

/** Where to resume from: a position, the history so far, and the optimizer's saved state. */
export interface ResumeFrom {
  readonly position: TrainingPosition;
  readonly history: readonly EpochRecord[];
  readonly optimizerWeights?: OptimizerWeights;
  /** With `keepBest`, the best weights the checkpoint kept. */
  readonly best?: BestWeights;
  /** With `lookahead`, the average the checkpoint kept. */
  readonly lookahead?: readonly Tensor[];
  /** With `ema`, the moving average the checkpoint kept. */
  readonly ema?: readonly Tensor[];
}

/** Disposes the tensors a `ResumeFrom` holds: fit's to do once it has them in place, or its holder's when it never reaches fit. */
export function disposeResume(resume: ResumeFrom | undefined): void {
  if (!resume) return;
  dispose([
    ...(resume.optimizerWeights ?? []).map((weight) => weight.tensor),
    ...(resume.best?.weights ?? []),
    ...(resume.lookahead ?? []),
    ...(resume.ema ?? []),
  ]);
}

/** A run to resume whose position or history does not fit the run given (its schedule, its epoch's steps). */
export class ResumeError extends RxvisionError {
  override readonly name = 'ResumeError';
}

/**
 * What is wrong with resuming at `resume` a run of `epochs` epochs of `stepsPerEpoch` steps (when
 * known), or undefined: an epoch past the end, a step past the epoch, or a history that is not the
 * epochs before it. A finished run (the epoch after the last, step 0) has nothing left to do.
 */
export function resumeProblem(resume: ResumeFrom, epochs: number, stepsPerEpoch: number | undefined): string | undefined {
  const { epoch, step } = resume.position;
  if (!(Number.isSafeInteger(epoch) && epoch >= 1 && epoch <= epochs + 1)) return `epoch ${epoch} is not one of the run's ${epochs}`;
  const steps = stepsPerEpoch ?? Infinity;
  if (!(Number.isSafeInteger(step) && step >= 0 && step < steps) || (epoch === epochs + 1 && step !== 0))
    return `step ${step} is not one of epoch ${epoch}'s ${stepsPerEpoch ?? ''} steps`.replace('  ', ' ');
  if (resume.history.length !== epoch - 1)
    return `its history holds ${resume.history.length} epochs, not the ${epoch - 1} before epoch ${epoch}`;
  if (resume.best && !(resume.best.epoch >= 1 && resume.best.epoch < epoch))
    return `its best epoch ${resume.best.epoch} is not one before epoch ${epoch}`;
  return undefined;
}

/** The loss became NaN or infinite: training stops, the last checkpoint is left as it was. */
export class NonFiniteLossError extends RxvisionError {
  override readonly name = 'NonFiniteLossError';

  constructor(
    readonly epoch: number,
    readonly step: number,
    readonly loss: number,
  ) {
    super(`the training loss became ${loss} at epoch ${epoch}, step ${step}; stopped (lower the learning rate?)`);
  }
}
