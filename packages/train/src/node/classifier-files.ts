import { resolve } from 'node:path';
import type { FolderClaim } from '@rxvision/folder';
import { fileSystemLoader, fileSystemSaver, hasSavedModel, SAVED_MODEL_FILES } from '@rxvision/model/node';
import { type LayersModel, loadLayersModel } from '@tensorflow/tfjs-layers';
import { asClassifier, type Classifier, ClassifierError, classifierOf } from '../classifier.js';

export interface SaveClassifierOptions {
  /** The claim on the folder it is saved in (`@rxvision/folder`): its temporaries, and its check before the renames. */
  readonly claim?: FolderClaim;
}

/**
 * Saves a classifier as a TensorFlow.js layers model (`model.json`, `weights.bin`) with its
 * preprocessing in the model's metadata: what `loadClassifier`, `rxvision predict`, `evaluate` and
 * the dashboard read. Each file is written under a temporary name and renamed into place.
 *
 * ```ts
 * await saveClassifier('runs/r1/model', asClassifier(model, { classes: train.classes }));
 * ```
 */
export async function saveClassifier(folder: string, classifier: Classifier, options: SaveClassifierOptions = {}): Promise<void> {
  asClassifier(classifier.model, classifier); // the metadata saved is the classifier's, whatever the model held before
  const { claim } = options;
  await classifier.model.save(fileSystemSaver(folder, claim ? { temporaryPath: claim.temporaryPath, beforeRename: claim.check } : {}));
}

/** Loads what `saveClassifier` wrote, checking that its class names, outputs and normalisation agree. */
export async function loadClassifier(folder: string): Promise<Classifier> {
  const where = resolve(folder);
  if (!(await hasSavedModel(where))) throw new ClassifierError(`${where}: no saved model here (no ${SAVED_MODEL_FILES.topology})`);
  let model: LayersModel;
  try {
    model = await loadLayersModel(fileSystemLoader(where));
  } catch (error) {
    throw new ClassifierError(`${where}: the saved model cannot be loaded (${(error as Error).message})`);
  }
  try {
    return classifierOf(model, where);
  } catch (error) {
    model.dispose();
    throw error;
  }
}
