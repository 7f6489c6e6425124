export { fileSystemLoader, fileSystemSaver, type FileSystemSaverOptions, removeSavedModel } from './file-system-io.js';
