import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimFolder } from '@rxvision/folder';
import { type RedisTestServer, startRedisServer } from '@rxvision/redis-test-server';
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { defer, lastValueFrom, Observable } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import {
  cancelTrials,
  queuedTrial,
  redisConnection,
  startTrialWorker,
  TRIAL_CANCELLED,
  TRIAL_QUEUE,
  type TrialContext,
  type TrialJob,
  trialJobId,
  type TrialWorker,
} from '../src/node/index.js';

let redis: RedisTestServer;
let dir: string;
const clients: Redis[] = [];
const closers: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  redis = await startRedisServer();
  dir = await mkdtemp(join(tmpdir(), 'rxvision-queue-'));
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  for (const client of clients.splice(0)) client.disconnect();
});
afterAll(async () => {
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
});

const connection = () => {
  const client = redisConnection(redis.url);
  clients.push(client);
  return client;
};
function openQueue() {
  const queue = new Queue<TrialJob>(TRIAL_QUEUE, { connection: connection() });
  const events = new QueueEvents(TRIAL_QUEUE, { connection: connection() });
  closers.push(
    () => queue.close(),
    () => events.close(),
  );
  return { queue, events };
}
function worker(run: (job: TrialJob, context: TrialContext) => Observable<unknown>): TrialWorker {
  const started = startTrialWorker({ connection: connection(), run, lockMs: 2000 });
  closers.push(() => started.close());
  return started;
}
const trialJob = (sweep: string, trial: string): TrialJob => ({
  sweep,
  trial,
  experiment: join(sweep, 'trials', `${trial}.json`),
  runDir: join(sweep, trial),
});
const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );
/** A trial that takes `ms`, then leaves a summary, as a finished run does. */
const finishesAfter = (ms: number) => (job: TrialJob) =>
  new Observable<never>((subscriber) => {
    const timeout = setTimeout(
      () =>
        void mkdir(job.runDir, { recursive: true })
          .then(() => writeFile(join(job.runDir, 'summary.json'), '{}'))
          .then(() => subscriber.complete()),
      ms,
    );
    return () => clearTimeout(timeout);
  });

describe('queued trials and trial workers (a real redis-server)', () => {
  test('a worker runs a queued trial; one failing for its own reason fails once, with its reason; queuing a finished trial again runs nothing', async () => {
    const sweep = join(dir, 'first');
    const runs: string[] = [];
    worker((job) => {
      runs.push(job.trial);
      return job.trial === 'bad'
        ? new Observable((subscriber) => subscriber.error(new Error('the loss is not finite at epoch 1')))
        : finishesAfter(100)(job);
    });
    const { queue, events } = openQueue();
    await lastValueFrom(queuedTrial(queue, events, trialJob(sweep, 'good'), { lr: 1 }), { defaultValue: undefined });
    expect(await exists(join(sweep, 'good', 'summary.json'))).toBe(true);
    await expect(lastValueFrom(queuedTrial(queue, events, trialJob(sweep, 'bad'), { lr: 2 }))).rejects.toThrow(
      'the loss is not finite at epoch 1',
    );
    await lastValueFrom(queuedTrial(queue, events, trialJob(sweep, 'good'), { lr: 1 }), { defaultValue: undefined });
    expect(runs).toEqual(['good', 'bad']);
  });

  test('closing a worker stops its trial and hands it back; the next worker runs it to the end', async () => {
    const sweep = join(dir, 'handover');
    const stopped: string[] = [];
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const first = worker(
      (job, context) =>
        new Observable<never>((subscriber) => {
          started();
          context.signal.addEventListener('abort', () => {
            stopped.push(job.trial);
            subscriber.error(new Error('interrupted; checkpoint written'));
          });
        }),
    );
    const { queue, events } = openQueue();
    const done = lastValueFrom(queuedTrial(queue, events, trialJob(sweep, 'long'), {}), { defaultValue: undefined });
    await running;
    await first.close();
    expect(stopped).toEqual(['long']);
    const resumed: string[] = [];
    worker((job) => {
      resumed.push(job.trial);
      return finishesAfter(50)(job);
    });
    await done;
    expect(resumed).toEqual(['long']);
    const job = (await queue.getJobs(['completed'])).find((candidate) => candidate.data.runDir === join(sweep, 'long'));
    expect(job?.attemptsMade ?? 0).toBeLessThanOrEqual(1);
  });

  test('cancelling takes a waiting trial out of the queue and stops a running one; both end with the reason, and queued again they run', async () => {
    const sweep = join(dir, 'cancel');
    const [long, waiting] = [trialJob(sweep, 'long'), trialJob(sweep, 'waiting')];
    const trials = [
      { job: long, experiment: {} },
      { job: waiting, experiment: {} },
    ];
    const seen: string[] = [];
    let blocking = true;
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    worker((job, context) => {
      seen.push(job.trial);
      if (!blocking) return finishesAfter(10)(job);
      return new Observable<never>((subscriber) => {
        started();
        context.signal.addEventListener('abort', () => subscriber.error(new Error('interrupted; checkpoint written')));
      });
    });
    const { queue, events } = openQueue();
    const outcome = (job: TrialJob) =>
      lastValueFrom(queuedTrial(queue, events, job, {}), { defaultValue: undefined }).then(
        () => 'finished',
        (error: Error) => error.message,
      );
    const longEnd = outcome(long);
    await running;
    const waitingEnd = outcome(waiting); // the worker runs one trial at a time: this one waits
    while ((await queue.getJobState(trialJobId(waiting, {}))) !== 'waiting') await new Promise((resolve) => setTimeout(resolve, 20));

    expect(await cancelTrials(redis.url, trials)).toEqual({ removed: ['waiting'], stopping: ['long'], ended: [] });
    expect(await Promise.all([longEnd, waitingEnd])).toEqual([TRIAL_CANCELLED, TRIAL_CANCELLED]);
    expect(seen).toEqual(['long']);

    blocking = false;
    expect(await Promise.all([outcome(long), outcome(waiting)])).toEqual(['finished', 'finished']);
    expect(seen.toSorted()).toEqual(['long', 'long', 'waiting']);
    expect(await cancelTrials(redis.url, trials)).toEqual({ removed: [], stopping: [], ended: ['long', 'waiting'] });
  });

  test('a trial whose folder another process holds goes back to the queue until that process lets go', async () => {
    const sweep = join(dir, 'held');
    const job = trialJob(sweep, 'shared');
    const held = await claimFolder(job.runDir, { purpose: 'train' });
    const tries: string[] = [];
    // As rxvision train does: the trainer claims its run folder, and is refused while another holds it.
    worker((trial) =>
      defer(async () => {
        const claim = await claimFolder(trial.runDir, { purpose: 'train' }).catch((error: Error) => {
          tries.push(error.name);
          throw error;
        });
        tries.push('trained');
        await claim.writeFile(join(trial.runDir, 'summary.json'), '{}');
        await claim.release();
      }),
    );
    const { queue, events } = openQueue();
    const done = lastValueFrom(queuedTrial(queue, events, job, {}), { defaultValue: undefined });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(tries).toEqual(['FolderHeldError']);
    await held.release();
    await done;
    expect(tries).toEqual(['FolderHeldError', 'trained']);
    const finished = (await queue.getJobs(['completed'])).find((candidate) => candidate.data.runDir === job.runDir);
    expect(finished?.failedReason).toBeUndefined();
  }, 30_000);
});
