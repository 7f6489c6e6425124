import { join, resolve } from 'node:path';
import type { ImageShape } from '@rxvision/dataset';
import { hasSavedModel, SAVED_MODEL_FILES } from '@rxvision/model/node';
import { RUN_FILES, RunFolder } from '@rxvision/run-folder';
import type { Classifier } from '@rxvision/train';
import { loadClassifier } from '@rxvision/train/node';
import { CliError } from './cli-error.js';

/** Loads a run's classifier (its model with class names and normalisation), as one line when it cannot. */
export async function loadRunClassifier(run: string): Promise<Classifier> {
  const folder = new RunFolder(run).file('model');
  if (!(await hasSavedModel(folder)))
    throw new CliError(
      `${resolve(run)}: not a run folder (no ${join(RUN_FILES.model, SAVED_MODEL_FILES.topology)}); pass the --out folder of rxvision train`,
    );
  return loadClassifier(folder);
}

/** "32×32×3" */
export function describeShape(shape: ImageShape): string {
  return shape.join('×');
}
