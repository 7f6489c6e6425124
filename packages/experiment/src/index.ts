export { type ComposedExperiment, composeExperiment, type ComposeOptions } from './compose-experiment.js';
export { defaultDataDir, type Experiment, type ExperimentInput, experimentJsonSchema, experimentSchema } from './experiment.js';
export { ExperimentError, parseExperiment, parseExperimentText, validateDocument } from './parse-experiment.js';
export { experimentFieldReference } from './field-reference.js';
