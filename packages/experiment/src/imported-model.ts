import { readFileSync } from 'node:fs';
import type { ImageShape } from '@rxvision/dataset';
import { OnnxImportError, onnxToLayers, readOnnx, type ReadModel } from '@rxvision/onnx';
import { initializers, layers, type LayersModel, model as functional, type SymbolicTensor } from '@tensorflow/tfjs-layers';

export interface ImportedModelOptions {
  /** An ONNX classifier (a torchvision or timm export). */
  readonly file: string;
  readonly inputShape: ImageShape;
  readonly classes: number;
  readonly seed: number;
  /** A new dense head for the dataset's classes where their number differs (default true). */
  readonly replaceHead?: boolean;
  /** Sizes for the input's named dimensions (other than the batch). */
  readonly dimensions?: Readonly<Record<string, number>>;
}

/** The file's graph, read; a RangeError naming the file for one that is missing or not ONNX. */
function readGraph(file: string): ReadModel {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new RangeError(`${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  try {
    return readOnnx(bytes);
  } catch (error) {
    if (error instanceof OnnxImportError) throw new RangeError(`${file}: ${error.message}`);
    throw error;
  }
}

/**
 * What an imported model will hold, from its graph alone (no tensor is made: no backend is needed
 * yet): its parameter count with the head it will have. What does not fit the data is a RangeError
 * in one line naming the file: another input size, or another class count where the head is kept.
 */
export function checkImportedModel(options: Omit<ImportedModelOptions, 'seed'>): number {
  const { file, inputShape, classes } = options;
  const graph = readGraph(file);
  const fail = (problem: string): never => {
    throw new RangeError(`${file}: ${problem}`);
  };
  const dims = graph.inputs.find((input) => !graph.initializers.has(input.name))?.dims ?? [];
  const sized = dims.slice(1).map((d) => (typeof d === 'number' ? d : (options.dimensions?.[d] ?? d)));
  // ONNX's NCHW [channels, height, width] is rxvision's [height, width, channels].
  const takes = sized.length === 3 ? [sized[1], sized[2], sized[0]] : sized;
  if (takes.join() !== inputShape.join())
    fail(`the model takes ${takes.join('×')} images, the dataset holds ${inputShape.join('×')}; prepare the images at its size`);
  const head = graph.nodes.at(-1);
  const weight = head && (head.op === 'Gemm' || head.op === 'MatMul') ? graph.initializers.get(head.inputs[1]!) : undefined;
  const transposed = head?.attributes.transB?.int === 1;
  const [features, outputs] = weight?.dims.length === 2 ? (transposed ? [weight.dims[1]!, weight.dims[0]!] : weight.dims) : [0, 0];
  const floats = [...graph.initializers.values()].filter((t) => !t.integer).reduce((sum, t) => sum + t.values.length, 0);
  if (outputs === classes) return floats;
  if (options.replaceHead === false)
    fail(`the model has ${outputs || 'other than'} classes, the dataset ${classes} (replaceHead is false)`);
  if (!weight) fail(`it ends in ${head?.op ?? 'nothing'}, not a dense head (Gemm or MatMul by a weight) that can be replaced`);
  const bias = head!.inputs[2] ? (graph.initializers.get(head!.inputs[2])?.values.length ?? 0) : 0;
  return floats - features! * outputs! - bias + features! * classes + classes;
}

/**
 * A pretrained classifier imported from ONNX for the dataset's images and classes (see
 * checkImportedModel, which refuses what does not fit before this is called): its last dense
 * layer, its head, is replaced by a new one, seeded, when the classes differ in number.
 */
export function createImportedModel(options: ImportedModelOptions): LayersModel {
  const { file, classes } = options;
  const net = onnxToLayers(readFileSync(file), { ...(options.dimensions && { dimensions: options.dimensions }) });
  if (net.outputs[0]!.shape[1] === classes) return net;
  const head = net.layers.at(-1)!;
  if (head.getClassName() !== 'Dense') throw new RangeError(`${file}: it ends in a ${head.getClassName()} layer, not a dense head`);
  const replaced = layers.dense({
    units: classes,
    name: 'head',
    kernelInitializer: initializers.glorotUniform({ seed: options.seed }),
    biasInitializer: 'zeros',
  });
  return functional({ inputs: net.inputs, outputs: replaced.apply(head.input as SymbolicTensor) as SymbolicTensor, name: 'imported' });
}
