import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { trialJobId } from './queued-trial.js';
import { parseRedisUrl } from './redis-connection.js';
import { TRIAL_QUEUE, type TrialJob } from './trial-job.js';

/** A trial's job as the queue sees it: BullMQ's job states, or `unknown` when it was never queued. */
export type TrialJobState = 'waiting' | 'active' | 'delayed' | 'prioritized' | 'waiting-children' | 'completed' | 'failed' | 'unknown';

/**
 * Where each trial's job stands in the queue at `url`, by trial name: for a status table, so it
 * does not wait for Redis. It connects once, without retrying (rejecting within `timeoutMs` when
 * Redis cannot be reached or does not answer), asks, and disconnects.
 */
export async function trialJobStates(url: string, jobs: readonly { readonly job: TrialJob; readonly experiment: unknown }[], timeoutMs = 3000): Promise<Map<string, TrialJobState>> {
  parseRedisUrl(url);
  const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: timeoutMs });
  client.on('error', () => {}); // a failed connection rejects the questions below
  const queue = new Queue(TRIAL_QUEUE, { connection: client });
  queue.on('error', () => {}); // the same failure, told once by the rejection
  let timer: NodeJS.Timeout | undefined;
  try {
    // BullMQ connects the client itself; a refused connection rejects the questions (no retries).
    const asked = Promise.all(jobs.map(({ job, experiment }) => queue.getJobState(trialJobId(job, experiment))));
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)));
    const states = await Promise.race([asked, late]);
    return new Map(jobs.map(({ job }, i) => [job.trial, states[i] as TrialJobState]));
  } finally {
    clearTimeout(timer);
    await queue.close().catch(() => {});
    client.disconnect();
  }
}
