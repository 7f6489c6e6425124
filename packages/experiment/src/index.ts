export { type ComposedExperiment, composeExperiment, type ComposeOptions } from './compose-experiment.js';
export {
  defaultDataDir,
  type Experiment,
  type ExperimentInput,
  experimentJsonSchema,
  experimentSchema,
  type Precision,
  PRECISIONS,
} from './experiment.js';
export { ExperimentError } from './experiment-error.js';
export { IMAGENET_NORMALIZE, normalizationOf } from './normalization.js';
export { parseJsonText } from './json-text.js';
export { parseExperiment, parseExperimentText, validateDocument } from './parse-experiment.js';
export { experimentFieldReference } from './field-reference.js';
export { type RunConfig, readRunConfig } from './run-config.js';
export type { BackendDescription, BackendSettings, RunEvent, RunFinished, RunOptions, RunPreparing, RunStarted } from './run-events.js';
export { canResume, resumeExperiment, runExperiment } from './run-experiment.js';
export { absoluteDataset, absoluteModel } from './absolute-dataset.js';
export { EXPORT_FORMATS, type ExportFormat, exportRun, savedClassifierFolder } from './export-run.js';
export { probeExperiment } from './probe-experiment.js';
