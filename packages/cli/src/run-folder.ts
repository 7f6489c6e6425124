import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ImageShape } from '@rxvision/dataset';
import { runFile } from '@rxvision/run-folder';
import type { Classifier } from '@rxvision/train';
import { loadClassifier } from '@rxvision/train/node';
import { CliError } from './cli-error.js';

/** Loads a run's classifier (its model with class names and normalisation), as one line when it cannot. */
export async function loadRunClassifier(run: string): Promise<Classifier> {
  const folder = runFile(run, 'model');
  await access(join(folder, 'model.json')).catch(() => {
    throw new CliError(`${resolve(run)}: not a run folder (no model/model.json); pass the --out folder of rxvision train`);
  });
  return loadClassifier(folder);
}

/** "32×32×3" */
export function describeShape(shape: ImageShape): string {
  return shape.join('×');
}
