export { type ComposedExperiment, composeExperiment, type ComposeOptions } from './compose-experiment.js';
export { defaultDataDir, type Experiment, type ExperimentInput, experimentSchema } from './experiment.js';
export { ExperimentError, parseExperiment, parseExperimentText } from './parse-experiment.js';
