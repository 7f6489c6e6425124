import { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { withQueueAt } from './queue-at.js';
import { type TrialJob, trialJobId } from './trial-job.js';

/** The reason a cancelled trial fails with: its checkpoint stays, so queuing the sweep again resumes it. */
export const TRIAL_CANCELLED = 'cancelled (rxvision sweep cancel); queue the sweep again to resume it from its checkpoint';

/** How long a cancel mark lasts if no worker or new queuing clears it: longer than any heartbeat. */
const MARK_SECONDS = 24 * 3600;
/** The Redis key that tells workers a trial's job is cancelled. */
const cancelKey = (jobId: string) => `rxvision:cancelled:${jobId}`;

/** Whether the trial with this job id was cancelled (asked by workers as they start it, then at each heartbeat). */
export async function isTrialCancelled(client: Redis, jobId: string): Promise<boolean> {
  return (await client.exists(cancelKey(jobId))) > 0;
}

/** Clears a trial's cancel mark: once it is out of the queue, failed by its worker, or queued again. */
export async function clearTrialCancel(client: { del(key: string): Promise<number> }, jobId: string): Promise<void> {
  await client.del(cancelKey(jobId));
}

/** What `cancelTrials` did, by trial name. */
export interface CancelledTrials {
  /** Were waiting: taken out of the queue. */
  readonly removed: readonly string[];
  /** Are training: their workers stop them at the next heartbeat (checkpointed) and fail them with `TRIAL_CANCELLED`. */
  readonly stopping: readonly string[];
  /** Had finished or failed already, or were never queued: left as they are. */
  readonly ended: readonly string[];
}

/**
 * Cancels trials queued at `url`. Each unended trial is marked cancelled first, so that a worker
 * taking it in the meantime stops it too; then the waiting ones are removed from the queue (a
 * sweep waiting for them hears `TRIAL_CANCELLED`). Rejects when Redis does not answer within `timeoutMs`.
 */
export async function cancelTrials(
  url: string,
  jobs: readonly { readonly job: TrialJob; readonly experiment: unknown }[],
  timeoutMs = 10_000,
): Promise<CancelledTrials> {
  return withQueueAt(url, timeoutMs, async (queue, client) => {
    const removed: string[] = [];
    const stopping: string[] = [];
    const ended: string[] = [];
    for (const { job, experiment } of jobs) {
      const id = trialJobId(job, experiment);
      const state = await queue.getJobState(id);
      if (state === 'completed' || state === 'failed' || state === 'unknown') {
        ended.push(job.trial);
        continue;
      }
      await client.set(cancelKey(id), '1', 'EX', MARK_SECONDS);
      if (state === 'active') {
        stopping.push(job.trial);
        continue;
      }
      // A worker may take it between the question and the removal: then it is locked, and the mark stops it.
      const removal = await Job.fromId(queue, id)
        .then((found) => found?.remove())
        .then(
          () => 'removed' as const,
          () => 'locked' as const,
        );
      if (removal === 'locked') {
        stopping.push(job.trial);
        continue;
      }
      removed.push(job.trial);
      await clearTrialCancel(client, id); // no worker holds it: nobody needs the mark
    }
    return { removed, stopping, ended };
  });
}
