import { withQueueAt } from './queue-at.js';
import { type TrialJob, trialJobId } from './trial-job.js';

/** A trial's job as the queue sees it: BullMQ's job states, or `unknown` when it was never queued. */
export type TrialJobState = 'waiting' | 'active' | 'delayed' | 'prioritized' | 'waiting-children' | 'completed' | 'failed' | 'unknown';

/**
 * Where each trial's job stands in the queue at `url`, by trial name: for a status table, so it
 * does not wait for Redis (one connection, no retries, an answer within `timeoutMs` or a rejection).
 */
export async function trialJobStates(
  url: string,
  jobs: readonly { readonly job: TrialJob; readonly experiment: unknown }[],
  timeoutMs = 3000,
): Promise<Map<string, TrialJobState>> {
  return withQueueAt(url, timeoutMs, async (queue) => {
    const states = await Promise.all(jobs.map(({ job, experiment }) => queue.getJobState(trialJobId(job, experiment))));
    return new Map(jobs.map(({ job }, i) => [job.trial, states[i] as TrialJobState]));
  });
}
