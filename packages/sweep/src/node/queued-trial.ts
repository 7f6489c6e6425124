import { Job, type Queue, type QueueEvents } from 'bullmq';
import { Observable } from 'rxjs';
import { clearTrialCancel, TRIAL_CANCELLED } from './cancel-trials.js';
import { type TrialJob, trialJobId } from './trial-job.js';

/**
 * One trial as a queue job: adds it (or finds it, when the same trial of the same sweep folder was
 * queued before: the job id is derived from both, so enqueuing again never runs a trial twice) and
 * emits `'queued'` once Redis has confirmed it, then completes when a worker finished it and errors with the worker's reason when it failed, or with
 * `TRIAL_CANCELLED` when it is taken out of the queue. A job that failed before is retried and a
 * cancelled one queued again. Unsubscribing stops waiting; the job stays queued.
 */
export function queuedTrial(queue: Queue, events: QueueEvents, job: TrialJob, experiment: unknown): Observable<'queued'> {
  return new Observable<'queued'>((subscriber) => {
    const jobId = trialJobId(job, experiment);
    const onRemoved = ({ jobId: removed }: { jobId: string }) => removed === jobId && subscriber.error(new Error(TRIAL_CANCELLED));
    void (async () => {
      await clearTrialCancel(await queue.getBackend().client, jobId);
      const existing = await Job.fromId<TrialJob>(queue, jobId);
      if (existing && (await existing.isFailed())) await existing.retry('failed');
      const queued = existing ?? (await queue.add(job.trial, job, { jobId, attempts: 1, removeOnComplete: false, removeOnFail: false }));
      if (subscriber.closed) return;
      subscriber.next('queued');
      events.on('removed', onRemoved);
      await queued.waitUntilFinished(events);
      subscriber.complete();
    })().catch((error: unknown) => subscriber.error(error));
    subscriber.add(() => void events.off('removed', onRemoved));
  });
}
