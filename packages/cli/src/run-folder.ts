import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ImageShape } from '@rxvision/dataset';
import { fileSystemLoader } from '@rxvision/model/node';
import { type LayersModel, loadLayersModel } from '@tensorflow/tfjs-layers';
import { runFile } from '@rxvision/run-folder';
import { CliError } from './cli-error.js';

/** Where a run keeps its model: `<run>/model/model.json` and `weights.bin`. */
export function modelFolder(run: string): string {
  return runFile(run, 'model');
}

/** Per-channel normalisation of pixels in [0, 1] that a model was trained with. */
export interface Normalisation {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

export interface RunModel {
  readonly model: LayersModel;
  readonly classes: string[];
  readonly imageShape: ImageShape;
  /** Absent for models trained on plain [0, 1] pixels (the tutorial). */
  readonly normalize?: Normalisation;
}

/** Loads a run's model, the class names and normalisation saved with it and the image shape it takes, checking that they agree. */
export async function loadRunModel(run: string): Promise<RunModel> {
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
  const { classes, normalize } = (model.getUserDefinedMetadata() ?? {}) as { classes?: string[]; normalize?: Normalisation };
  if (!Array.isArray(classes)) throw new CliError(`${folder}: the saved model has no class names`);
  const outputs = (model.outputs[0]!.shape as (number | null)[]).at(-1);
  if (outputs !== classes.length) throw new CliError(`${folder}: the saved model has ${outputs} outputs but ${classes.length} class names`);
  const imageShape = imageShapeOf(model, folder);
  if (normalize !== undefined && !isNormalisation(normalize, imageShape[2])) throw new CliError(`${folder}: the saved model's normalisation is not one mean and one positive std per channel`);
  return { model, classes, imageShape, ...(normalize && { normalize }) };
}

/** The [height, width, channels] of the images a model takes; a model that takes no images is refused. */
function imageShapeOf(model: LayersModel, folder: string): ImageShape {
  const [, ...shape] = model.inputs[0]!.shape;
  if (shape.length !== 3 || !shape.every((n) => Number.isInteger(n) && n! > 0)) {
    throw new CliError(`${folder}: the saved model takes inputs of shape [${shape.join(', ')}], not images (height, width, channels)`);
  }
  return shape as unknown as ImageShape;
}

function isNormalisation(value: Normalisation, channels: number): boolean {
  const numbers = (list: unknown) => Array.isArray(list) && list.length === channels && list.every((n) => typeof n === 'number' && Number.isFinite(n));
  return numbers(value.mean) && numbers(value.std) && value.std.every((s) => s > 0);
}

/** "32×32×3" */
export function describeShape(shape: ImageShape): string {
  return shape.join('×');
}
