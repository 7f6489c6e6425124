import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileSystemLoader } from '@rxvision/model/node';
import { type LayersModel, loadLayersModel } from '@tensorflow/tfjs-layers';
import { CliError } from './cli-error.js';

/** Where a run keeps its model: `<run>/model/model.json` and `weights.bin`. */
export function modelFolder(run: string): string {
  return join(resolve(run), 'model');
}

/** Loads a run's model and the class names saved with it. */
export async function loadRunModel(run: string): Promise<{ model: LayersModel; classes: string[] }> {
  const folder = modelFolder(run);
  await access(join(folder, 'model.json')).catch(() => {
    throw new CliError(`${resolve(run)}: not a run folder (no model/model.json); pass the --out folder of rxvision train`);
  });
  let model: LayersModel;
  try {
    model = await loadLayersModel(fileSystemLoader(folder));
  } catch (error) {
    throw new CliError(`${folder}: the saved model cannot be loaded (${(error as Error).message})`);
  }
  const classes = (model.getUserDefinedMetadata() as { classes?: string[] } | undefined)?.classes;
  if (!Array.isArray(classes)) throw new CliError(`${folder}: the saved model has no class names`);
  return { model, classes };
}
