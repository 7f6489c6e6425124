import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { ImageShape } from '@rxvision/dataset';
import { fileSystemLoader, SAVED_MODEL_FILES } from '@rxvision/model/node';
import { type LayersModel, loadLayersModel } from '@tensorflow/tfjs-layers';
import { withClassifierHead } from './classifier-head.js';
import { flatModel } from './flat-model.js';

export interface TfjsModelOptions {
  /** A tfjs-layers model: its `model.json` (weight shards beside it) or their folder. */
  readonly file: string;
  readonly inputShape: ImageShape;
  readonly classes: number;
  readonly replaceHead?: boolean | undefined;
}

/** A layer as model.json writes it (Keras' snake_case). */
interface LayerJson {
  readonly class_name: string;
  readonly config: {
    readonly name?: string;
    readonly layers?: readonly LayerJson[];
    readonly output_layers?: readonly (readonly [string, number, number])[];
    readonly batch_input_shape?: readonly (number | null)[];
    readonly units?: number;
  };
}

interface ModelJson {
  readonly modelTopology?: LayerJson & { readonly model_config?: LayerJson };
  readonly weightsManifest?: readonly { readonly weights: readonly { readonly name: string; readonly shape: readonly number[] }[] }[];
}

/** The folder and model.json of `file` (either may be given). */
export function tfjsModelFolder(file: string): string {
  return basename(file) === SAVED_MODEL_FILES.topology ? dirname(file) : file;
}

/** Larger than any model.json (ResNet-152's topology is about 0.3 MB): not read, refused. */
const MODEL_JSON_MAX_BYTES = 64 << 20;

/** model.json, read without a backend; a RangeError naming the file for one missing or not a tfjs-layers model. */
function readModelJson(file: string): { topology: LayerJson; json: ModelJson } {
  const path = join(tfjsModelFolder(file), SAVED_MODEL_FILES.topology);
  let json: ModelJson;
  try {
    // A FIFO or device would block the read: only a regular file is opened, and only one of a
    // model.json's size is read into memory.
    const stat = statSync(path);
    if (!stat.isFile()) throw new Error('not a regular file');
    if (stat.size > MODEL_JSON_MAX_BYTES) throw new Error(`${stat.size} bytes, more than a model.json's ${MODEL_JSON_MAX_BYTES >> 20} MiB`);
    json = JSON.parse(readFileSync(path, 'utf8')) as ModelJson;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new RangeError(`${path}: ${code === 'ENOENT' ? 'no such file' : `not a tfjs-layers model.json (${(error as Error).message})`}`);
  }
  const topology = json?.modelTopology?.model_config ?? json?.modelTopology;
  if (typeof topology?.class_name !== 'string' || typeof topology.config !== 'object')
    throw new RangeError(`${path}: not a tfjs-layers model.json (no modelTopology)`);
  return { topology, json };
}

/** The layer a model ends in, inside nested models. */
function lastLayer(layer: LayerJson): LayerJson {
  const { layers, output_layers } = layer.config;
  if (!layers?.length) return layer;
  const name = output_layers?.[0]?.[0];
  return lastLayer(layers.find((l) => l.config.name === name) ?? layers.at(-1)!);
}

/** The image shape the model takes: its first layer's, inside nested models. */
function inputShapeOf(layer: LayerJson): readonly (number | null)[] | undefined {
  return layer.config.batch_input_shape?.slice(1) ?? (layer.config.layers?.[0] && inputShapeOf(layer.config.layers[0]));
}

/**
 * What the model will hold, from model.json alone (no tensor is made): its parameter count with the
 * head it will have. What does not fit the data is a RangeError in one line naming the file.
 */
export function checkTfjsModel(options: TfjsModelOptions): number {
  const { file, inputShape, classes } = options;
  const { topology, json } = readModelJson(file);
  const fail = (problem: string): never => {
    throw new RangeError(`${file}: ${problem}`);
  };
  const takes = inputShapeOf(topology);
  if (takes?.join() !== inputShape.join())
    fail(
      `the model takes ${takes?.join('×') ?? 'unknown'} images, the dataset holds ${inputShape.join('×')}; prepare the images at its size`,
    );
  const specs = (json.weightsManifest ?? []).flatMap((group) => group.weights);
  const parameters = specs.reduce((sum, spec) => sum + spec.shape.reduce((a, b) => a * b, 1), 0);
  const head = lastLayer(topology);
  const units = head.class_name === 'Dense' ? head.config.units! : 0;
  if (units === classes && options.replaceHead !== true) return parameters;
  if (options.replaceHead === false) fail(`the model has ${units || 'other than'} classes, the dataset ${classes} (replaceHead is false)`);
  if (head.class_name !== 'Dense') fail(`it ends in a ${head.class_name} layer, not a dense head`);
  const kernel = specs.find((spec) => spec.name.endsWith(`${head.config.name}/kernel`));
  const features = kernel?.shape[0] ?? 0;
  const bias = specs.some((spec) => spec.name.endsWith(`${head.config.name}/bias`)) ? units : 0;
  return parameters - features * units - bias + features * classes + classes;
}

/** The model as saved, loaded once (weights files checked: see `fileSystemLoader`); `createTfjsModel` copies it. */
export function loadTfjsModel(file: string): Promise<LayersModel> {
  return loadLayersModel(fileSystemLoader(tfjsModelFolder(file)));
}

/** A copy of the loaded model, nested models opened out, its weights as saved, with its head for the dataset's classes. */
export function createTfjsModel(loaded: LayersModel, options: TfjsModelOptions & { readonly seed: number }): LayersModel {
  return withClassifierHead(flatModel(loaded), options);
}
