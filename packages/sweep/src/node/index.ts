export { cancelTrials, type CancelledTrials, TRIAL_CANCELLED } from './cancel-trials.js';
export { queuedTrial } from './queued-trial.js';
export { trialJobStates, type TrialJobState } from './trial-job-states.js';
export {
  checkRedis,
  QueueAuthError,
  QueueUnreachableError,
  QueueUrlError,
  REDIS_PASSWORD_VARIABLE,
  redisConnection,
  withoutPassword,
} from './redis-connection.js';
export { TRIAL_QUEUE, type TrialJob, trialJobId } from './trial-job.js';
export {
  PAUSED_TRIAL_DELAY_MS,
  startTrialWorker,
  type TrialContext,
  TrialPausedError,
  type TrialWorker,
  type TrialWorkerOptions,
} from './trial-worker.js';
export { openTrialQueue, type TrialQueue } from './trial-queue.js';
export { ClaimedSweepFolder, type RecordedTrialState, SweepFolder, type SweepRecord } from './sweep-folder.js';
export { sweepScheduler, type SweepSchedulerOptions } from './sweep-scheduler.js';
