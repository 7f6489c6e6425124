import { readFileSync, statSync } from 'node:fs';
import type { ImageShape } from '@rxvision/dataset';
import { batchNormalization, reLU } from '@rxvision/model';
import { isChannelsLastInput, OnnxImportError, onnxToLayers, readOnnx, type ReadModel, type ReadNode } from '@rxvision/onnx';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { withClassifierHead } from './classifier-head.js';

export interface ImportedModelOptions {
  /** An ONNX classifier (a torchvision or timm export). */
  readonly file: string;
  readonly inputShape: ImageShape;
  readonly classes: number;
  readonly seed: number;
  /**
   * true: a new dense head for the dataset's classes, always (other classes, as many); false: never
   * (the numbers must match); default: where the numbers differ.
   */
  readonly replaceHead?: boolean;
  /** Sizes for the input's named dimensions (other than the batch). */
  readonly dimensions?: Readonly<Record<string, number>>;
}

/** The file's graph, read; a RangeError naming the file for one that is missing, not a file or not ONNX. */
export function readImportedGraph(file: string): ReadModel {
  let bytes: Uint8Array;
  try {
    // A FIFO or device would block the read: only a regular file is opened.
    if (!statSync(file).isFile()) throw new Error('not a regular file');
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
export function checkImportedModel(graph: ReadModel, options: Omit<ImportedModelOptions, 'seed'>): number {
  const { file, inputShape, classes } = options;
  const fail = (problem: string): never => {
    throw new RangeError(`${file}: ${problem}`);
  };
  const image = graph.inputs.find((input) => !graph.initializers.has(input.name));
  const sized = (image?.dims ?? []).slice(1).map((d) => (typeof d === 'number' ? d : (options.dimensions?.[d] ?? d)));
  // ONNX's NCHW [channels, height, width] is rxvision's [height, width, channels] (an NHWC input is already).
  const nchw = sized.length === 3 && !isChannelsLastInput(graph, image!.name);
  const takes = nchw ? [sized[1], sized[2], sized[0]] : sized;
  if (takes.join() !== inputShape.join())
    fail(`the model takes ${takes.join('×')} images, the dataset holds ${inputShape.join('×')}; prepare the images at its size`);
  const head = headOf(graph);
  const weight = head && (head.op === 'Gemm' || head.op === 'MatMul') ? graph.initializers.get(head.inputs[1]!) : undefined;
  const transposed = head?.attributes.transB?.int === 1;
  const [features, outputs] = weight?.dims.length === 2 ? (transposed ? [weight.dims[1]!, weight.dims[0]!] : weight.dims) : [0, 0];
  const floats = [...graph.initializers.values()].filter((t) => !t.integer).reduce((sum, t) => sum + t.values.length, 0);
  if (outputs === classes && options.replaceHead !== true) return floats;
  if (options.replaceHead === false)
    fail(`the model has ${outputs || 'other than'} classes, the dataset ${classes} (replaceHead is false)`);
  if (!weight) fail(`it ends in ${head?.op ?? 'nothing'}, not a dense head (Gemm or MatMul by a weight) that can be replaced`);
  const bias = head!.inputs[2] ? (graph.initializers.get(head!.inputs[2])?.values.length ?? 0) : 0;
  return floats - features! * outputs! - bias + features! * classes + classes;
}

/** The node that computes the first output (the logits, where a model gives probabilities too), Identity nodes passed over. */
function headOf(graph: ReadModel): ReadNode | undefined {
  let name = graph.outputs[0]?.name;
  for (;;) {
    const node = graph.nodes.find((n) => n.outputs.includes(name ?? ''));
    if (node?.op !== 'Identity') return node;
    name = node.inputs[0];
  }
}

/**
 * A pretrained classifier imported from ONNX (`graph`, read from `options.file`) for the dataset's images and classes (see
 * checkImportedModel, which refuses what does not fit before this is called), with its head for
 * the dataset's classes (`withClassifierHead`).
 */
export function createImportedModel(graph: ReadModel, options: ImportedModelOptions): LayersModel {
  // The first output: the logits, where the model gives probabilities too (as rxvision's exports do).
  const outputs = graph.outputs.slice(0, 1).map((output) => output.name);
  // Batch norms and ReLUs as @rxvision/model's: saved alike, one native kernel each way on onednn.
  const layers = { batchNormalization, reLU };
  const net = onnxToLayers(graph, { outputs, layers, ...(options.dimensions && { dimensions: options.dimensions }) });
  return withClassifierHead(net, options);
}
