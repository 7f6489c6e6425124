export { openImageDataset } from './open.js';
export { DEFAULT_DATA_DIR, prepareCifar10, type PrepareOptions, type PrepareProgress, type PrepareResult } from './prepare.js';
export { CIFAR10_SOURCE_VARIABLE, defaultCifar10Source, type SourceKind } from './source.js';
export { removeStaleTemporaries, temporaryPath } from './temporary-files.js';
