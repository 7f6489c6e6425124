export {
  checksum,
  type FileChecksum,
  checksumProblem,
  fileSystemLoader,
  fileSystemSaver,
  type FileSystemSaverOptions,
  removeSavedModel,
  weightBytes,
} from './file-system-io.js';
