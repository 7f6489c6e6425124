export { fileSystemLoader, fileSystemSaver, removeSavedModel } from './file-system-io.js';
