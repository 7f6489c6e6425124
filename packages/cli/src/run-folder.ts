import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ImageShape } from '@rxvision/dataset';
import { fileSystemLoader } from '@rxvision/model/node';
import { type LayersModel, loadLayersModel } from '@tensorflow/tfjs-layers';
import { CliError } from './cli-error.js';

/** Where a run keeps its model: `<run>/model/model.json` and `weights.bin`. */
export function modelFolder(run: string): string {
  return join(resolve(run), 'model');
}

/** Loads a run's model, the class names saved with it and the image shape it takes, checking that they agree. */
export async function loadRunModel(run: string): Promise<{ model: LayersModel; classes: string[]; imageShape: ImageShape }> {
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
  const outputs = (model.outputs[0]!.shape as (number | null)[]).at(-1);
  if (outputs !== classes.length) throw new CliError(`${folder}: the saved model has ${outputs} outputs but ${classes.length} class names`);
  return { model, classes, imageShape: imageShapeOf(model, folder) };
}

/** The [height, width, channels] of the images a model takes; a model that takes no images is refused. */
function imageShapeOf(model: LayersModel, folder: string): ImageShape {
  const [, ...shape] = model.inputs[0]!.shape;
  if (shape.length !== 3 || !shape.every((n) => Number.isInteger(n) && n! > 0)) {
    throw new CliError(`${folder}: the saved model takes inputs of shape [${shape.join(', ')}], not images (height, width, channels)`);
  }
  return shape as unknown as ImageShape;
}

/** "32×32×3" */
export function describeShape(shape: ImageShape): string {
  return shape.join('×');
}
