import { RunFileError } from '@rxvision/run-folder';
import type { TrialPolicy } from '@rxvision/train';
import { comparesAt, decide, type ScheduledTrial, trialScheduler } from '../scheduler.js';
import { SweepFolder } from './sweep-folder.js';

export interface SweepSchedulerOptions {
  /** How long a trial waits for earlier trials to get as far before it pauses, freeing its worker (default 60 s). */
  readonly waitMs?: number;
  /** How often it looks again while it waits (default 1 s). */
  readonly pollMs?: number;
  /** Hears why it waits. */
  readonly log?: (line: string) => void;
}

/**
 * The sweep scheduler of trial `trial` of the sweep folder `sweep`, for `fit`'s `scheduler` (through
 * `runExperiment`): between epochs it decides from the trials' histories in the sweep folder (their
 * run folders) and the sweep's record of failed ones. Undefined when the sweep has no scheduler. It
 * waits while an earlier trial has not got as far, and pauses the trial (checkpointed, to be
 * resumed) when that takes longer than `waitMs`, so that a worker is never held by a trial that
 * cannot go on.
 */
export async function sweepScheduler(sweep: string, trial: string, options: SweepSchedulerOptions = {}): Promise<TrialPolicy | undefined> {
  const folder = new SweepFolder(sweep);
  const record = await folder.readRecord();
  const index = record?.trials.findIndex((t) => t.name === trial) ?? -1;
  if (!record?.scheduler || index < 0) return undefined;
  const spec = record.scheduler;
  const scheduler = trialScheduler(spec, record.trials[index]!.epochs ?? Number.POSITIVE_INFINITY);
  const { waitMs = 60_000, pollMs = 1000, log = () => {} } = options;
  const earlier = record.trials.slice(0, index);
  const warned = new Set<string>();
  // A damaged history (a figure out of range, 1e308, null) would steer every later decision: that
  // trial's figures are left out, said once in a line naming it.
  const historyOf = (name: string) =>
    folder
      .trial(name)
      .readHistory()
      .catch((error: unknown) => {
        if (error instanceof RunFileError && !warned.has(name)) log(`${name}: left out of the ${spec.type} decisions: ${error.message}`);
        warned.add(name);
        return [];
      });
  const look = async (): Promise<ScheduledTrial[]> => {
    const states = (await folder.readRecord())?.states ?? {};
    return Promise.all(
      earlier.map(async ({ name }) => {
        const [history, summary] = await Promise.all([
          historyOf(name),
          folder
            .trial(name)
            .readSummary()
            .catch(() => undefined),
        ]);
        return { history, done: summary !== undefined || states[name]?.state === 'failed' };
      }),
    );
  };
  return async (history) => {
    // Between rungs (or within the grace period) nothing of the other trials needs reading.
    if (!comparesAt(scheduler, index, history.length)) return 'continue';
    const started = Date.now();
    for (let looks = 0; ; looks++) {
      const decision = decide(scheduler, await look(), index, history);
      if (decision !== 'wait') return decision;
      if (Date.now() - started >= waitMs) return 'pause';
      if (looks === 0) log(`${trial}: waiting for earlier trials to reach epoch ${history.length}`);
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  };
}
