export { runTrials, type RunTrialsOptions, type TrialUpdate } from './run-trials.js';
export { type Distribution, parseSweep, type Sweep, type SweepInput, sweepSchema } from './sweep-file.js';
export { describeSettings, expandTrials, type Trial } from './trials.js';
