export {
  CHECKPOINT_FORMAT,
  CheckpointError,
  hasCheckpoint,
  type LoadedCheckpoint,
  loadCheckpoint,
  readCheckpointMeta,
  saveCheckpoint,
  type SaveCheckpointOptions,
} from './checkpoint.js';
export { loadClassifier, saveClassifier, type SaveClassifierOptions } from './classifier-files.js';
