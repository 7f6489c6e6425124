export { ClaimedRunFolder, RunFolder } from './run-folder.js';
export { historyProblem, RunFileError, summaryProblem } from './read-run.js';
export { RUN_FILES, RUN_PICTURES, SWEEP_FILES, sweepTrialFile } from './run-files.js';
export { type RunSummary, SUMMARY_FORMAT } from './run-summary.js';
export { writeJson } from './write-run.js';
export type { RunFailure, RunProgress, StepSeries } from './run-progress.js';
export { type RunStatus, type RunStatusFacts, statusOf } from './run-status.js';
