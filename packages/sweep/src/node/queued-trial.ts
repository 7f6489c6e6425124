import { createHash } from 'node:crypto';
import { Job, type Queue, type QueueEvents } from 'bullmq';
import { Observable } from 'rxjs';
import type { TrialJob } from './trial-job.js';

/**
 * One trial as a queue job: adds it (or finds it, when the same trial of the same sweep folder was
 * queued before: the job id is derived from both, so enqueuing again never runs a trial twice), then
 * completes when a worker finished it and errors with the worker's reason when it failed. A job that
 * failed before is retried. Unsubscribing stops waiting; the job stays queued.
 */
export function queuedTrial(queue: Queue, events: QueueEvents, job: TrialJob, experiment: unknown): Observable<never> {
  return new Observable<never>((subscriber) => {
    let active = true;
    void (async () => {
      const jobId = trialJobId(job, experiment);
      const existing = await Job.fromId<TrialJob>(queue, jobId);
      if (existing && (await existing.isFailed())) await existing.retry('failed');
      const queued = existing ?? (await queue.add(job.trial, job, { jobId, attempts: 1, removeOnComplete: false, removeOnFail: false }));
      await queued.waitUntilFinished(events);
      if (active) subscriber.complete();
    })().catch((error: unknown) => active && subscriber.error(error));
    return () => {
      active = false;
    };
  });
}

/** Same sweep folder, same trial, same settings: same job. */
export function trialJobId(job: TrialJob, experiment: unknown): string {
  const hash = createHash('sha256').update(JSON.stringify([job.sweep, job.trial, experiment])).digest('hex').slice(0, 16);
  // BullMQ refuses ids with ':' (its key separator) and plain integers.
  return `${job.trial}-${hash}`;
}
