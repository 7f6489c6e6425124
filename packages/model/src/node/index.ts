export { checksum, type FileChecksum, checksumProblem, fileSystemLoader, fileSystemSaver, type FileSystemSaverOptions, removeSavedModel } from './file-system-io.js';
