import type { EpochRecord, History } from '@rxvision/metrics';
import type { SchedulerSpec } from './sweep-file.js';

/**
 * Asynchronous successive halving (Li et al., "A System for Massively Parallel Hyperparameter
 * Tuning", 2020), in its stopping form as Ray Tune's `AsyncHyperBandScheduler` has it: rungs at
 * `gracePeriod · reductionFactor^k` epochs below `maxEpochs`; a trial reaching a rung goes on (is
 * promoted) only if its figure is in the best `1 / reductionFactor` of those recorded at that rung.
 * With `brackets` > 1, trial i is in bracket i mod brackets, whose first rung is `reductionFactor^b`
 * times later.
 */
export interface AshaScheduler {
  readonly type: 'asha';
  /** The epoch record's figure to compare (`valAccuracy`, `valLoss`, a metric such as `top5`). */
  readonly metric: string;
  /** Whether higher (`max`) or lower (`min`) is better. */
  readonly mode: 'max' | 'min';
  /** Epochs every trial gets before its first rung. */
  readonly gracePeriod: number;
  /** Keep the best 1/reductionFactor at each rung. */
  readonly reductionFactor: number;
  readonly brackets: number;
  /** The most epochs a trial trains: its experiment's schedule. */
  readonly maxEpochs: number;
}

/**
 * The median stopping rule (Golovin et al., "Google Vizier", 2017): from `gracePeriod` epochs on, a
 * trial whose best figure so far is worse than the median of the others' best at the same epoch
 * stops, once at least `minSamples` others got that far.
 */
export interface MedianScheduler {
  readonly type: 'median';
  readonly metric: string;
  readonly mode: 'max' | 'min';
  readonly gracePeriod: number;
  readonly minSamples: number;
}

export type TrialScheduler = AshaScheduler | MedianScheduler;

/** What the scheduler knows of one trial: its epochs so far, and whether it will add more. */
export interface ScheduledTrial {
  readonly history: History;
  /** Finished (its schedule ran out, or it was stopped), or failed: it will never report another epoch. */
  readonly done: boolean;
}

/**
 * The decision for trial `index` after `history` (its epochs so far): `continue`, `stop`, or
 * `wait` while a trial listed before it has not yet got as far. The trials compared are those
 * listed before it (in its bracket): so a decision depends on the trials' own figures only, never
 * on which process reported first, and a restarted sweep or a trial resumed elsewhere gets the same
 * answer. Trials started in list order reach each rung in that order, so waiting is rare and short.
 */
export function decide(
  scheduler: TrialScheduler,
  trials: readonly ScheduledTrial[],
  index: number,
  history: History,
): 'continue' | 'stop' | 'wait' {
  const epoch = history.length;
  if (!comparesAt(scheduler, index, epoch)) return 'continue';
  const earlier = trials
    .slice(0, index)
    .filter((_, j) => scheduler.type === 'median' || j % scheduler.brackets === index % scheduler.brackets);
  if (earlier.some((trial) => trial.history.length < epoch && !trial.done)) return 'wait';
  const reached = earlier.filter((trial) => trial.history.length >= epoch);
  const own = figure(history[epoch - 1]!, scheduler.metric);
  if (scheduler.type === 'asha') {
    if (reached.length === 0) return 'continue';
    const recorded = reached.map((trial) => figure(trial.history[epoch - 1]!, scheduler.metric));
    // Ray Tune's cutoff: the (1 − 1/η) quantile of the recorded figures (for `max`), interpolated.
    const cutoff = quantile(recorded, scheduler.mode === 'max' ? 1 - 1 / scheduler.reductionFactor : 1 / scheduler.reductionFactor);
    return isWorse(own, cutoff, scheduler.mode) ? 'stop' : 'continue';
  }
  if (reached.length < scheduler.minSamples) return 'continue';
  const best = (records: History) =>
    bestOf(
      records.slice(0, epoch).map((record) => figure(record, scheduler.metric)),
      scheduler.mode,
    );
  const median = quantile(
    reached.map((trial) => best(trial.history)),
    0.5,
  );
  return isWorse(best(history), median, scheduler.mode) ? 'stop' : 'continue';
}

/**
 * Whether trial `index`'s decision after `epoch` epochs looks at other trials at all: at an ASHA
 * rung, or past the median rule's grace period. Elsewhere the answer is `continue`, with nothing to read.
 */
export function comparesAt(scheduler: TrialScheduler, index: number, epoch: number): boolean {
  if (epoch === 0) return false;
  return scheduler.type === 'asha' ? rungs(scheduler, index).includes(epoch) : epoch >= scheduler.gracePeriod;
}

/** The epochs at which trial `index` is compared: its bracket's rungs, below `maxEpochs`. */
export function rungs(scheduler: AshaScheduler, index: number): number[] {
  const bracket = index % scheduler.brackets;
  const epochs: number[] = [];
  for (let k = bracket; ; k++) {
    const epoch = Math.round(scheduler.gracePeriod * scheduler.reductionFactor ** k);
    if (epoch >= scheduler.maxEpochs) return epochs;
    epochs.push(epoch);
  }
}

/** The `q` quantile (0..1) with linear interpolation between order statistics, as numpy's default. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (at - low);
}

/** Strictly worse: a figure equal to the cutoff goes on (ties are kept, as Ray Tune keeps them). */
const isWorse = (value: number, cutoff: number, mode: 'max' | 'min') => (mode === 'max' ? value < cutoff : value > cutoff);
const bestOf = (values: readonly number[], mode: 'max' | 'min') => (mode === 'max' ? Math.max(...values) : Math.min(...values));

function figure(record: EpochRecord, metric: string): number {
  const value = metric === 'valAccuracy' || metric === 'valLoss' || metric === 'trainLoss' ? record[metric] : record.metrics?.[metric];
  if (value === undefined) throw new RangeError(`the sweep's scheduler compares "${metric}", which epoch ${record.epoch}'s record lacks`);
  return value;
}

/** A sweep file's scheduler for one trial, whose schedule has `maxEpochs` epochs; the mode defaults to min for a loss, max otherwise. */
export function trialScheduler(spec: Extract<SchedulerSpec, { type: 'asha' }>, maxEpochs: number): AshaScheduler;
export function trialScheduler(spec: SchedulerSpec, maxEpochs: number): TrialScheduler;
export function trialScheduler(spec: SchedulerSpec, maxEpochs: number): TrialScheduler {
  const mode = spec.mode ?? (/loss$/i.test(spec.metric) ? 'min' : 'max');
  return spec.type === 'asha' ? { ...spec, mode, maxEpochs } : { ...spec, mode };
}
