import type { History } from '@rxvision/metrics';
import { type Schedule, totalEpochs } from './schedule.js';
import { modeOf, monitored, type Monitor } from './stopping.js';

/**
 * A learning-rate schedule as data. `phases` is the tutorial's: constant rates for so many epochs
 * each. The others change the rate at every step and need the steps per epoch.
 */
export type LearningRateSchedule =
  | { readonly type: 'phases'; readonly phases: Schedule }
  | {
      /** Linear warm-up from 0 to `peak`, then half a cosine down to `final` (default 0). */
      readonly type: 'cosine';
      readonly epochs: number;
      readonly peak: number;
      readonly warmupEpochs?: number;
      readonly final?: number;
    }
  | {
      /** Linear warm-up from 0 to `from`, then a straight line to `to`. */
      readonly type: 'linear';
      readonly epochs: number;
      readonly from: number;
      readonly to: number;
      readonly warmupEpochs?: number;
    }
  | {
      /**
       * airbench's: a straight line from `start`·peak up to `peak` over the first `warmupFraction`
       * of the steps (default 0.2 and 0.23), then a straight line down towards `end`·peak (0.07).
       */
      readonly type: 'triangle';
      readonly epochs: number;
      readonly peak: number;
      readonly start?: number;
      readonly end?: number;
      readonly warmupFraction?: number;
    }
  | {
      /** Smith's one-cycle: up from peak/25 to `peak` over the first `warmupFraction` (0.3), then cosine down to peak/10⁴. */
      readonly type: 'oneCycle';
      readonly epochs: number;
      readonly peak: number;
      readonly warmupFraction?: number;
    }
  | PlateauSchedule;

/**
 * PyTorch's ReduceLROnPlateau (threshold mode `rel`): `learningRate` until the monitored figure has
 * not got better for more than `patience` epochs, then `factor` times the rate (not below
 * `minLearningRate`), then `cooldown` epochs in which nothing counts against it. Its state is a
 * function of the history, so a resumed run takes the rates the uninterrupted one took.
 */
export interface PlateauSchedule {
  readonly type: 'plateau';
  readonly epochs: number;
  readonly learningRate: number;
  /** Default `valLoss`. */
  readonly monitor?: Monitor;
  /** Default `min` for losses, else `max`. */
  readonly mode?: 'min' | 'max';
  /** Default 0.1. */
  readonly factor?: number;
  /** Default 10. */
  readonly patience?: number;
  /** Relative: better means below best·(1 − threshold) (above best·(1 + threshold) for max). Default 1e-4. */
  readonly threshold?: number;
  /** Default 0. */
  readonly cooldown?: number;
  /** Default 0. */
  readonly minLearningRate?: number;
}

/** The phases as a schedule (what `fit` has always taken: `[{ epochs, learningRate }, …]`). */
export const asSchedule = (schedule: Schedule | LearningRateSchedule): LearningRateSchedule =>
  Array.isArray(schedule) ? { type: 'phases', phases: schedule as Schedule } : (schedule as LearningRateSchedule);

export function scheduleEpochs(schedule: Schedule | LearningRateSchedule): number {
  const typed = asSchedule(schedule);
  return typed.type === 'phases' ? totalEpochs(typed.phases) : typed.epochs;
}

/** Whether the rate changes within an epoch, so that `stepsPerEpoch` is needed. */
export const changesEachStep = (schedule: LearningRateSchedule): boolean => schedule.type !== 'phases' && schedule.type !== 'plateau';

/** The phase an epoch (1-based) belongs to: its index in `phases`, 0 for the other schedules. */
export function phaseAt(schedule: LearningRateSchedule, epoch: number): number {
  if (schedule.type !== 'phases') return 0;
  let end = 0;
  for (const [index, phase] of schedule.phases.entries()) {
    end += phase.epochs;
    if (epoch <= end) return index;
  }
  return schedule.phases.length - 1;
}

/** The rate of step `step` (0-based) of epoch `epoch` (1-based); a plateau schedule reads the epochs before it in `history`. */
export function learningRateAt(
  schedule: LearningRateSchedule,
  epoch: number,
  step: number,
  stepsPerEpoch = 1,
  history: History = [],
): number {
  if (schedule.type === 'phases') return schedule.phases[phaseAt(schedule, epoch)]!.learningRate;
  if (schedule.type === 'plateau')
    return plateauRate(
      schedule,
      history.filter((record) => record.epoch < epoch),
    );
  const total = schedule.epochs * stepsPerEpoch;
  const t = Math.min((epoch - 1) * stepsPerEpoch + step, total - 1);
  // From `high` at step `start` to `low` at the last step.
  const cosineFrom = (high: number, low: number, start: number) =>
    low + ((high - low) * (1 + Math.cos((Math.PI * (t - start)) / Math.max(1, total - 1 - start)))) / 2;
  switch (schedule.type) {
    case 'cosine': {
      const warmup = Math.round((schedule.warmupEpochs ?? 0) * stepsPerEpoch);
      return t < warmup ? (schedule.peak * (t + 1)) / warmup : cosineFrom(schedule.peak, schedule.final ?? 0, warmup);
    }
    case 'linear': {
      const warmup = Math.round((schedule.warmupEpochs ?? 0) * stepsPerEpoch);
      if (t < warmup) return (schedule.from * (t + 1)) / warmup;
      return schedule.from + ((schedule.to - schedule.from) * (t - warmup)) / Math.max(1, total - 1 - warmup);
    }
    case 'triangle': {
      // As airbench's LambdaLR: warm-up steps floor(total · fraction); the last step stops short of `end`.
      const warmup = Math.floor((schedule.warmupFraction ?? 0.23) * total);
      const [start, end] = [schedule.start ?? 0.2, schedule.end ?? 0.07];
      const factor = t < warmup ? start + ((1 - start) * t) / warmup : 1 + ((end - 1) * (t - warmup)) / (total - warmup);
      return schedule.peak * factor;
    }
    case 'oneCycle': {
      const warmup = Math.max(1, Math.round((schedule.warmupFraction ?? 0.3) * total));
      const start = schedule.peak / 25;
      return t < warmup ? start + ((schedule.peak - start) * t) / warmup : cosineFrom(schedule.peak, schedule.peak / 1e4, warmup);
    }
  }
}

/** The plateau schedule's rate after `history`, replayed epoch by epoch as PyTorch's scheduler steps. */
function plateauRate(schedule: PlateauSchedule, history: History): number {
  const monitor = schedule.monitor ?? 'valLoss';
  const mode = modeOf({ monitor, mode: schedule.mode });
  const [factor, patience, threshold] = [schedule.factor ?? 0.1, schedule.patience ?? 10, schedule.threshold ?? 1e-4];
  const floor = schedule.minLearningRate ?? 0;
  let [rate, best, bad, cooling] = [schedule.learningRate, mode === 'min' ? Infinity : -Infinity, 0, 0];
  for (const record of history) {
    const figure = monitored(record, monitor);
    const better = mode === 'min' ? figure < best * (1 - threshold) : figure > best * (1 + threshold);
    [best, bad] = better ? [figure, 0] : [best, bad + 1];
    if (cooling > 0) [cooling, bad] = [cooling - 1, 0];
    if (bad > patience) {
      const reduced = Math.max(rate * factor, floor);
      if (rate - reduced > 1e-8) rate = reduced; // PyTorch's eps: no change smaller than it
      [cooling, bad] = [schedule.cooldown ?? 0, 0];
    }
  }
  return rate;
}

/** Refuses a schedule that cannot run, in one line. */
export function checkSchedule(schedule: LearningRateSchedule): void {
  const positive = (name: string, value: number | undefined, zeroAllowed = false) => {
    if (value !== undefined && !(zeroAllowed ? value >= 0 : value > 0))
      throw new RangeError(`schedule ${schedule.type}: ${name} must be ${zeroAllowed ? '≥ 0' : '> 0'}, got ${value}`);
  };
  if (schedule.type === 'phases') {
    if (schedule.phases.length === 0) throw new RangeError('schedule phases: no phases');
    schedule.phases.forEach((phase, i) => {
      if (!Number.isInteger(phase.epochs) || phase.epochs < 1 || !(phase.learningRate > 0))
        throw new RangeError(
          `schedule phases: phase ${i + 1} needs epochs ≥ 1 and a learning rate > 0, got ${phase.epochs}@${phase.learningRate}`,
        );
    });
    return;
  }
  if (!Number.isInteger(schedule.epochs) || schedule.epochs < 1)
    throw new RangeError(`schedule ${schedule.type}: epochs must be a positive integer, got ${schedule.epochs}`);
  if (schedule.type === 'plateau') return checkPlateau(schedule);
  if (schedule.type === 'linear') {
    positive('from', schedule.from);
    positive('to', schedule.to, true);
  } else positive('peak', schedule.peak);
  if (schedule.type === 'cosine') positive('final', schedule.final, true);
  if (schedule.type === 'triangle') {
    positive('start', schedule.start, true);
    positive('end', schedule.end, true);
  }
  if (
    (schedule.type === 'oneCycle' || schedule.type === 'triangle') &&
    schedule.warmupFraction !== undefined &&
    !(schedule.warmupFraction > 0 && schedule.warmupFraction < 1)
  )
    throw new RangeError(`schedule ${schedule.type}: warmupFraction must be in (0, 1), got ${schedule.warmupFraction}`);
  if (schedule.type === 'cosine' || schedule.type === 'linear') {
    positive('warmupEpochs', schedule.warmupEpochs, true);
    if ((schedule.warmupEpochs ?? 0) >= schedule.epochs)
      throw new RangeError(
        `schedule ${schedule.type}: warmupEpochs (${schedule.warmupEpochs}) must be fewer than epochs (${schedule.epochs})`,
      );
  }
}

function checkPlateau(schedule: PlateauSchedule): void {
  const { learningRate, factor, patience, threshold, cooldown, minLearningRate } = schedule;
  const refuse = (name: string, rule: string, value: unknown) => {
    throw new RangeError(`schedule plateau: ${name} must be ${rule}, got ${value}`);
  };
  if (!(learningRate > 0)) refuse('learningRate', '> 0', learningRate);
  if (factor !== undefined && !(factor > 0 && factor < 1)) refuse('factor', 'in (0, 1)', factor);
  for (const [name, value] of [
    ['patience', patience],
    ['cooldown', cooldown],
  ] as const)
    if (value !== undefined && !(Number.isInteger(value) && value >= 0)) refuse(name, 'an integer ≥ 0', value);
  if (threshold !== undefined && !(threshold >= 0)) refuse('threshold', '≥ 0', threshold);
  if (minLearningRate !== undefined && !(minLearningRate >= 0)) refuse('minLearningRate', '≥ 0', minLearningRate);
}
