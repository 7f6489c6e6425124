export { historyProblem, isFinished, readHistory, readRunExperiment, readSummary, RunFileError, summaryProblem } from './read-run.js';
export { RUN_FILES, RUN_PICTURES, runFile, SWEEP_FILES, sweepTrialFile } from './run-files.js';
export { type RunSummary, SUMMARY_FORMAT } from './run-summary.js';
export { writeHistory, writeJson, writeRunExperiment, writeSummary } from './write-run.js';
export {
  readFailure,
  readProgress,
  type RunFailure,
  type RunProgress,
  type StepSeries,
  writeFailure,
  writeProgress,
} from './run-progress.js';
export { hasCheckpoint, isHeld, runStatus, type RunStatus, type RunStatusFacts, statusOf } from './run-status.js';
