import { type Schedule, totalEpochs } from './schedule.js';

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
    };

/** The phases as a schedule (what `fit` has always taken: `[{ epochs, learningRate }, …]`). */
export const asSchedule = (schedule: Schedule | LearningRateSchedule): LearningRateSchedule =>
  Array.isArray(schedule) ? { type: 'phases', phases: schedule as Schedule } : (schedule as LearningRateSchedule);

export function scheduleEpochs(schedule: Schedule | LearningRateSchedule): number {
  const typed = asSchedule(schedule);
  return typed.type === 'phases' ? totalEpochs(typed.phases) : typed.epochs;
}

/** Whether the rate changes within an epoch, so that `stepsPerEpoch` is needed. */
export const changesEachStep = (schedule: LearningRateSchedule): boolean => schedule.type !== 'phases';

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

/** The rate of step `step` (0-based) of epoch `epoch` (1-based). */
export function learningRateAt(schedule: LearningRateSchedule, epoch: number, step: number, stepsPerEpoch = 1): number {
  if (schedule.type === 'phases') return schedule.phases[phaseAt(schedule, epoch)]!.learningRate;
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
