import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import { FolderHeldError, FolderLostError } from '@rxvision/folder';
import { RunFolder } from '@rxvision/run-folder';
import type { Redis } from 'ioredis';
import { from, lastValueFrom, type ObservableInput } from 'rxjs';
import { RxvisionError } from '@rxvision/errors';
import { clearTrialCancel, isTrialCancelled, TRIAL_CANCELLED } from './cancel-trials.js';
import { TRIAL_QUEUE, type TrialJob } from './trial-job.js';

/** What a trial runner gets besides the job. */
export interface TrialContext {
  /** Aborted when the worker shuts down or the trial is cancelled: stop the trial (checkpoint first), then error. */
  readonly signal: AbortSignal;
  /**
   * How long the trial's run folder stays claimed once its writer stops answering: the worker's
   * `lockMs`, for the trainer's folder claim (see @rxvision/folder).
   */
  readonly lockMs: number;
}

export interface TrialWorkerOptions {
  /** The worker's Redis client (BullMQ duplicates it for its blocking reads). */
  readonly connection: Redis;
  /**
   * Runs one trial to its end: completes when it finished, errors with the reason when it failed.
   * It must claim the run folder while it writes there (`claimFolder`, as `rxvision train` does),
   * and error with a FolderHeldError or FolderLostError when another process holds it: the trial
   * then goes back to the queue. It resumes from the checkpoint if there is one.
   */
  readonly run: (job: TrialJob, context: TrialContext) => ObservableInput<unknown>;
  /** Trials at once on this worker (default 1). */
  readonly concurrency?: number;
  /**
   * How long a trial stays claimed by a worker that stopped answering (SIGKILL, a lost machine)
   * before another worker takes it over and resumes it; the worker renews its claim well within it.
   * Default 30 s.
   */
  readonly lockMs?: number;
  readonly log?: (line: string) => void;
}

export interface TrialWorker {
  /**
   * Stops taking trials, stops the running ones (they checkpoint) and hands them back to the queue,
   * then closes BullMQ's worker (waiting at most a few seconds for its connections).
   */
  close(): Promise<void>;
}

/** A trial the sweep's scheduler paused (checkpointed) until earlier trials get as far: it goes back to the queue for later. */
export class TrialPausedError extends RxvisionError {
  override readonly name = 'TrialPausedError';
  override readonly kind = 'paused';
}

/** How long a paused trial waits in the queue before a worker takes it again. */
export const PAUSED_TRIAL_DELAY_MS = 2000;

/** How often a trial may be taken over from a dead worker before it is marked failed. */
const MAX_TAKEOVERS = 10;
/**
 * How long `close` waits for BullMQ to close once the trials are handed back. BullMQ's close waits
 * for its blocking connection's 'end' event, which never comes if that connection was cut off while
 * Redis was away: a worker asked to stop then must not wait forever.
 */
const CLOSE_WAIT_MS = 5000;

/**
 * A BullMQ worker for sweep trials. A trial whose folder already holds a summary is finished
 * (it completed before its job could be marked so); one whose folder another process holds (its
 * trainer's claim: that process, not this worker, keeps it, so a frozen worker loses nothing and
 * a trainer that lost its folder stops writing) is put back for later; a trial that fails for its own reason fails its job, unretried, with
 * that reason; one its sweep's scheduler paused goes back to the queue for a little while; one stopped by `close` goes back to the queue to be resumed by whichever worker
 * comes next; one cancelled (`cancelTrials`) is stopped at the next heartbeat and fails with
 * `TRIAL_CANCELLED`.
 */
export function startTrialWorker(options: TrialWorkerOptions): TrialWorker {
  const lockMs = options.lockMs ?? 30_000;
  const log = options.log ?? (() => {});
  const stopping = new AbortController();
  const running = new Set<Promise<void>>();

  const processTrial = (job: Job<TrialJob>, token?: string): Promise<void> => {
    const processing = runTrial(job, token);
    const settled = processing.then(
      () => {},
      () => {},
    );
    running.add(settled);
    void settled.then(() => running.delete(settled));
    return processing;
  };

  const runTrial = async (job: Job<TrialJob>, token?: string): Promise<void> => {
    const { runDir, trial } = job.data;
    if (stopping.signal.aborted) return putBack(job, token, 0);
    if (await new RunFolder(runDir).isFinished()) return log(`${trial}: already finished`);
    // Stopped when the worker stops (handed back) or when the trial is cancelled (failed with that reason).
    const cancel = new AbortController();
    const stop = AbortSignal.any([stopping.signal, cancel.signal]);
    const cancelled = () => isTrialCancelled(options.connection, job.id!).catch(() => false);
    const heartbeat = setInterval(() => void cancelled().then((yes) => yes && cancel.abort(TRIAL_CANCELLED)), lockMs / 4);
    let busy: Error | undefined;
    let paused: TrialPausedError | undefined;
    try {
      if (await cancelled()) cancel.abort(TRIAL_CANCELLED);
      if (!stop.aborted) {
        await lastValueFrom(from(options.run(job.data, { signal: stop, lockMs })), { defaultValue: undefined });
        return;
      }
    } catch (error) {
      if (error instanceof FolderHeldError || error instanceof FolderLostError) busy = error;
      else if (error instanceof TrialPausedError) paused = error;
      else if (!stop.aborted) throw new UnrecoverableError(error instanceof Error ? error.message : String(error));
    } finally {
      clearInterval(heartbeat);
    }
    if (busy) {
      log(`${trial}: ${busy.message}; trying again later`);
      return putBack(job, token, lockMs);
    }
    if (paused) {
      log(`${trial}: paused by the sweep's scheduler; back to the queue`);
      return putBack(job, token, PAUSED_TRIAL_DELAY_MS);
    }
    if (stop.reason === TRIAL_CANCELLED) {
      log(`${trial}: cancelled; its checkpoint is kept`);
      await clearTrialCancel(options.connection, job.id!).catch(() => {});
      throw new UnrecoverableError(TRIAL_CANCELLED);
    }
    // Handed back only once the folder is let go, so that the next worker can claim it at once.
    log(`${trial}: stopped; back to the queue`);
    return putBack(job, token, 0);
  };

  const worker = new Worker<TrialJob>(TRIAL_QUEUE, processTrial, {
    connection: options.connection,
    concurrency: options.concurrency ?? 1,
    lockDuration: lockMs,
    stalledInterval: lockMs,
    maxStalledCount: MAX_TAKEOVERS,
  });
  // Redis errors while it is away: the client reconnects and the caller hears of them through it.
  worker.on('error', () => {});
  return {
    close: async () => {
      stopping.abort();
      // Closing at once (in this tick) stops BullMQ fetching: a trial just handed back is not taken again.
      const closing = worker.close();
      await Promise.all(running); // every trial stopped, checkpointed and handed back
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closing, new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)))]);
      clearTimeout(timer);
    },
  };
}

/** Returns the job to the queue (delayed by `delayMs`) without counting it as a failure. */
async function putBack(job: Job<TrialJob>, token: string | undefined, delayMs: number): Promise<never> {
  await job.moveToDelayed(Date.now() + delayMs, token);
  throw new DelayedError();
}
