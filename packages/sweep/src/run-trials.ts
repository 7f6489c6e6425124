import { catchError, concat, defer, endWith, filter, from, map, mergeMap, type Observable, type ObservableInput, of } from 'rxjs';
import type { Trial } from './trials.js';

/** A trial's progress through a sweep. */
export type TrialUpdate =
  | { readonly trial: string; readonly state: 'running' }
  /** A queue's runner confirmed the trial is in the queue (it emitted `'queued'`). */
  | { readonly trial: string; readonly state: 'queued' }
  | { readonly trial: string; readonly state: 'finished' }
  | { readonly trial: string; readonly state: 'failed'; readonly reason: string };

export interface RunTrialsOptions {
  /** Trials at once. */
  readonly concurrency: number;
  /**
   * Runs one trial to its end: completes when it finished, errors (with the reason as message) when
   * it failed. An Observable is unsubscribed when the sweep is, so it can stop its process. A runner
   * that hands trials to a queue emits `'queued'` once the queue holds it (as `queuedTrial` does).
   */
  readonly run: (trial: Trial) => ObservableInput<unknown>;
}

/**
 * Runs trials with bounded concurrency, in order of the list as slots free up: `running` when a
 * trial starts, then `finished` or `failed` with its reason. A failed trial does not stop the others.
 */
export function runTrials(trials: readonly Trial[], options: RunTrialsOptions): Observable<TrialUpdate> {
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1)
    throw new RangeError(`concurrency must be a whole number ≥ 1, got ${options.concurrency}`);
  return from(trials).pipe(
    mergeMap(
      (trial) =>
        concat(
          of<TrialUpdate>({ trial: trial.name, state: 'running' }),
          defer(() => options.run(trial)).pipe(
            // Besides 'queued', what it emits on the way is the runner's business.
            filter((value) => value === 'queued'),
            map((): TrialUpdate => ({ trial: trial.name, state: 'queued' })),
            endWith<TrialUpdate>({ trial: trial.name, state: 'finished' }),
            catchError((error: unknown) =>
              of<TrialUpdate>({ trial: trial.name, state: 'failed', reason: error instanceof Error ? error.message : String(error) }),
            ),
          ),
        ),
      options.concurrency,
    ),
  );
}
