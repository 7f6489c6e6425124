import { Queue, QueueEvents } from 'bullmq';
import type { Observable } from 'rxjs';
import { queuedTrial } from './queued-trial.js';
import { redisConnection } from './redis-connection.js';
import { TRIAL_QUEUE, type TrialJob } from './trial-job.js';

/** The trial queue at a Redis URL, from the side that queues a sweep. */
export interface TrialQueue {
  /** Queues one trial (see `queuedTrial`): emits `'queued'` once Redis holds it, completes when a worker finished it. */
  run(job: TrialJob, experiment: unknown): Observable<'queued'>;
  /** Closes the queue and its connections. */
  close(): Promise<void>;
}

/**
 * Opens the trial queue at `url` for queuing a sweep from code, as `rxvision sweep --queue` does:
 * a BullMQ queue and its events, on connections that wait through Redis going away and tell
 * `report` one line when it goes and one when it is back.
 *
 * ```ts
 * const queue = openTrialQueue('redis://db:6379', console.log);
 * await lastValueFrom(runTrials(trials, { concurrency: trials.length, run: (trial) => queue.run(jobOf(trial), trial.experiment) }));
 * await queue.close();
 * ```
 */
export function openTrialQueue(url: string, report: (line: string) => void = () => {}): TrialQueue {
  const clients = [redisConnection(url, report), redisConnection(url)];
  const queue = new Queue<TrialJob>(TRIAL_QUEUE, { connection: clients[0]! });
  const events = new QueueEvents(TRIAL_QUEUE, { connection: clients[1]! });
  // The connections' own errors, already told as one line by redisConnection (BullMQ would print each with its stack).
  queue.on('error', () => {});
  events.on('error', () => {});
  return {
    run: (job, experiment) => queuedTrial(queue, events, job, experiment),
    close: async () => {
      await Promise.all([queue.close(), events.close()]);
      for (const client of clients) client.disconnect();
    },
  };
}
