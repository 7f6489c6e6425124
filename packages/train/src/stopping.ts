import type { EpochRecord, History } from '@rxvision/metrics';

/** A figure of the epoch record to watch: `valLoss`, `valAccuracy`, `trainLoss`, or an extra metric by name (`top5`). */
export type Monitor = 'valLoss' | 'valAccuracy' | 'trainLoss' | (string & {});

export interface Watched {
  readonly monitor: Monitor;
  /** Whether lower (`min`) or higher (`max`) is better; default `min` for the losses, `max` otherwise. */
  readonly mode?: 'min' | 'max';
  /** The least change that counts as better (default 0: any). */
  readonly minDelta?: number;
}

export interface EarlyStopping extends Watched {
  /** Epochs in a row without a better figure after which training ends. */
  readonly patience: number;
}

/**
 * How a run may end before its schedule does. Their state is the history (and, for `keepBest`, the
 * best weights, which fit hands to each checkpoint): a resumed run ends where the uninterrupted one
 * would have.
 */
export interface StoppingOptions {
  /** End once the watched figure has not got better for `patience` epochs. */
  readonly earlyStopping?: EarlyStopping;
  /** At the end, put back the weights of the epoch with the best figure (true: the early stopping's, else `valLoss`). */
  readonly keepBest?: boolean | Watched;
  /**
   * Seconds of training (the epochs' own, as the history records them) the run may take: an epoch
   * starts only if it is expected (by the longest so far) to end within it.
   */
  readonly timeBudgetSeconds?: number;
  /**
   * Asked between epochs (after the checkpoint; and before the next epoch of a run resumed at an
   * epoch's start), for a policy that decides from more than this run, such as a sweep's ASHA
   * scheduler (not the learning-rate schedule): `continue`, `stop` (the run ends here, reason
   * `scheduler`) or `pause` (it stops as a requested stop would, checkpointed, to be resumed and
   * asked again later). Its answers must depend on the history only, so that a resumed run is asked
   * the same question.
   */
  readonly trialPolicy?: TrialPolicy;
}

/** A trial policy's answer between two epochs. */
export type TrialDecision = 'continue' | 'stop' | 'pause';
export type TrialPolicy = (history: History) => TrialDecision | Promise<TrialDecision>;

/** Why a run ended. */
export type EndReason = 'completed' | 'early-stopping' | 'time-budget' | 'scheduler';

/** The figure `monitor` names in a record; a clear error for a name the record lacks. */
export function monitored(record: EpochRecord, monitor: Monitor): number {
  const value =
    monitor === 'valLoss' || monitor === 'valAccuracy' || monitor === 'trainLoss'
      ? record[monitor as 'valLoss' | 'valAccuracy' | 'trainLoss']
      : record.metrics?.[monitor];
  if (value === undefined)
    throw new RangeError(
      `"${monitor}" is not a figure of the epoch record (valLoss, valAccuracy, trainLoss${Object.keys(record.metrics ?? {})
        .map((name) => `, ${name}`)
        .join('')})`,
    );
  return value;
}

/** Whether lower (`min`) or higher (`max`) is better for `watched`: as given, else `min` for losses. */
export const modeOf = (watched: Pick<Watched, 'monitor' | 'mode'>) => watched.mode ?? (/loss$/i.test(watched.monitor) ? 'min' : 'max');

/** The epoch (1-based) with the best figure so far and that figure, or undefined for an empty history. */
export function bestEpoch(history: History, watched: Watched): { readonly epoch: number; readonly value: number } | undefined {
  const better = (value: number, best: number) =>
    modeOf(watched) === 'min' ? value < best - (watched.minDelta ?? 0) : value > best + (watched.minDelta ?? 0);
  let best: { epoch: number; value: number } | undefined;
  for (const record of history) {
    const value = monitored(record, watched.monitor);
    if (best === undefined || better(value, best.value)) best = { epoch: record.epoch, value };
  }
  return best;
}

/** Whether training ends after `history`, by early stopping or the time budget (in that order); undefined to go on. */
export function stopReason(history: History, options: StoppingOptions): Exclude<EndReason, 'completed' | 'scheduler'> | undefined {
  const { earlyStopping, timeBudgetSeconds } = options;
  if (earlyStopping && history.length > 0) {
    const best = bestEpoch(history, earlyStopping)!;
    if (history.at(-1)!.epoch - best.epoch >= earlyStopping.patience) return 'early-stopping';
  }
  if (timeBudgetSeconds !== undefined && history.length > 0) {
    const spent = history.reduce((sum, record) => sum + record.seconds, 0);
    const longest = Math.max(...history.map((record) => record.seconds));
    if (spent + longest > timeBudgetSeconds) return 'time-budget';
  }
  return undefined;
}

/** The figure `keepBest` watches, or undefined when it is off. */
export function keptBest(options: StoppingOptions): Watched | undefined {
  if (!options.keepBest) return undefined;
  if (options.keepBest === true) return options.earlyStopping ?? { monitor: 'valLoss' };
  return options.keepBest;
}

/** Refuses settings no run can follow, in one line. */
export function checkStopping(options: StoppingOptions): void {
  const { earlyStopping, timeBudgetSeconds } = options;
  if (earlyStopping && !(Number.isInteger(earlyStopping.patience) && earlyStopping.patience >= 1))
    throw new RangeError(`earlyStopping.patience must be an integer ≥ 1, got ${earlyStopping.patience}`);
  if (earlyStopping && !((earlyStopping.minDelta ?? 0) >= 0))
    throw new RangeError(`earlyStopping.minDelta must be ≥ 0, got ${earlyStopping.minDelta}`);
  if (timeBudgetSeconds !== undefined && !(timeBudgetSeconds > 0))
    throw new RangeError(`timeBudgetSeconds must be > 0, got ${timeBudgetSeconds}`);
}
