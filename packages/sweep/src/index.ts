export { runTrials, type RunTrialsOptions, type TrialUpdate } from './run-trials.js';
export { type Distribution, parseSweep, type SchedulerSpec, type Sweep, type SweepInput, sweepSchema } from './sweep-file.js';
export { describeSettings, expandTrials, type Trial } from './trials.js';
export {
  type AshaScheduler,
  comparesAt,
  decide,
  type MedianScheduler,
  quantile,
  rungs,
  type ScheduledTrial,
  trialScheduler,
  type TrialScheduler,
} from './scheduler.js';
