export {
  checksum,
  type FileChecksum,
  checksumProblem,
  fileSystemLoader,
  fileSystemSaver,
  type FileSystemSaverOptions,
  hasSavedModel,
  removeSavedModel,
  SAVED_MODEL_FILES,
  weightBytes,
} from './file-system-io.js';
