import type { EpochRecord, History } from '@rxvision/metrics';
import type { EndReason } from './stopping.js';
import type { TrainingPosition } from './training-state.js';

/** After each optimisation step. `loss` is the batch's mean per-sample loss. */
export interface BatchEnd {
  readonly type: 'batch';
  readonly epoch: number;
  readonly phase: number;
  /** 1-based within the epoch. */
  readonly step: number;
  readonly size: number;
  readonly loss: number;
  /** The learning rate this step used. */
  readonly learningRate: number;
}

export interface EpochEnd {
  readonly type: 'epoch';
  readonly record: EpochRecord;
}

/** The last event: the whole history, then the stream completes. */
export interface TrainingEnd {
  readonly type: 'end';
  readonly history: History;
  /** The schedule ran out, or a stopping policy ended the run (see `StoppingOptions`). */
  readonly reason: EndReason;
  /** With `keepBest`: the epoch whose weights the model holds now. */
  readonly bestEpoch?: number;
}

/** Training stopped on request, or paused by the scheduler (after a checkpoint); it can resume from `position`. */
export interface TrainingStopped {
  readonly type: 'stopped';
  readonly position: TrainingPosition;
  /** `stop` emitted (`request`), or the scheduler said `pause`. */
  readonly by: 'request' | 'scheduler';
}

export type TrainingEvent = BatchEnd | EpochEnd | TrainingEnd | TrainingStopped;
