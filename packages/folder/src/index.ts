export {
  CLAIM_FILE,
  type ClaimOptions,
  claimFolder,
  DEFAULT_STALE_AFTER_MS,
  type FolderClaim,
  folderHolder,
  folderWriter,
  isWorkingFile,
} from './claim-folder.js';
export type { ClaimHolder } from './claim-holder.js';
export { describeHolder, FolderHeldError, FolderLostError } from './folder-errors.js';
export { asOutOfSpace, formatBytes, OutOfSpaceError, type SpaceNeed } from './out-of-space.js';
export { openRegularFile, readRegularFile, syncFolder, UnreadableFileError, writeFileDurably } from './durable-files.js';
export { writeFileAtomic } from './write-file-atomic.js';
export { removeEmptyFolders } from './remove-empty-folders.js';
export { FolderAccessError, makeWritableFolder } from './writable-folder.js';
