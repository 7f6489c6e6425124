// ONNX's own backend test cases (Debian's libonnx-testdata): each a model.onnx with test_data_set_*/
// input_*.pb and output_*.pb, run through onnxToLayers and compared with the expected outputs.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { IMPORTED_OPERATORS, OnnxImportError, onnxToLayers, type OnnxTensor, readFields, readOnnx, readTensor } from '../src/index.js';

export const ONNX_TEST_DATA = process.env.ONNX_TEST_DATA ?? '/usr/share/libonnx-testdata/data/node';

/** Ops whose inputs after the first are parameters (a filter, statistics, bounds, a shape): constants here. */
const PARAMETER_OPERATORS = new Set([
  'Conv',
  'BatchNormalization',
  'Gemm',
  'Clip',
  'Reshape',
  'LayerNormalization',
  'ReduceMean',
  'Dropout',
]);

export type CaseResult =
  | { readonly outcome: 'passed' }
  | { readonly outcome: 'refused'; readonly reason: string }
  | { readonly outcome: 'wrong'; readonly reason: string };

/** The cases whose every node is an operator the importer takes, on float tensors only. */
export function matchingCases(): string[] {
  if (!existsSync(ONNX_TEST_DATA))
    throw new Error(`${ONNX_TEST_DATA}: ONNX's test data is not installed (apt-get install libonnx-testdata, or set ONNX_TEST_DATA)`);
  return readdirSync(ONNX_TEST_DATA)
    .filter((name) => existsSync(join(ONNX_TEST_DATA, name, 'model.onnx')))
    .filter((name) => {
      const graph = readOnnx(readFileSync(join(ONNX_TEST_DATA, name, 'model.onnx')));
      const float = [...graph.inputs, ...graph.outputs].every((value) => value.elementType === 1 || isShapeInput(graph, value.name));
      return graph.nodes.length > 0 && float && graph.nodes.every((node) => IMPORTED_OPERATORS.includes(node.op));
    })
    .sort();
}

/** An integer input a parameter operator reads (Reshape's shape): fed as a constant. */
function isShapeInput(graph: ReturnType<typeof readOnnx>, name: string): boolean {
  return graph.nodes.some((node) => PARAMETER_OPERATORS.has(node.op) && node.inputs.indexOf(name) > 0);
}

const tensorFile = (path: string): OnnxTensor => readTensor(readFields(readFileSync(path)));

/** Imports case `name` and runs its data sets; how close each output came, or why it was refused. */
export function runCase(name: string, tolerance = 1e-4): CaseResult {
  const folder = join(ONNX_TEST_DATA, name);
  const graph = readOnnx(readFileSync(join(folder, 'model.onnx')));
  const sets = readdirSync(folder).filter((entry) => entry.startsWith('test_data_set_'));
  for (const set of sets) {
    let inputs;
    try {
      inputs = graph.inputs.map((value, i) => ({ value, tensor: tensorFile(join(folder, set, `input_${i}.pb`)) }));
    } catch (error) {
      if (error instanceof OnnxImportError) return { outcome: 'refused', reason: error.message };
      throw error;
    }
    // The first input is the data; a later one is a constant where its operator takes a parameter
    // there, or where it does not share the first's rank and batch (a broadcast operand).
    const constants: Record<string, OnnxTensor> = {};
    for (const { value, tensor } of inputs.slice(1)) {
      const parameter = isShapeInput(graph, value.name);
      const sameBatch = tensor.dims.length === inputs[0]!.tensor.dims.length && tensor.dims[0] === inputs[0]!.tensor.dims[0];
      if (parameter || !sameBatch) constants[value.name] = tensor;
    }
    let net;
    try {
      net = onnxToLayers(graph, { constants });
    } catch (error) {
      if (error instanceof OnnxImportError) return { outcome: 'refused', reason: error.message };
      throw error;
    }
    const fed = inputs.filter(({ value }) => !(value.name in constants));
    const outputs = tf.tidy(() => {
      const xs = fed.map(({ tensor }) => {
        const x = tf.tensor(Float32Array.from(tensor.values), [...tensor.dims]);
        return tensor.dims.length === 4 ? tf.transpose(x, [0, 2, 3, 1]) : x; // images go in channels last
      });
      const ys = [net.predict(xs.length === 1 ? xs[0]! : xs)].flat() as tf.Tensor[];
      return ys.map((y) => ({ shape: y.shape, values: y.dataSync() }));
    });
    net.dispose();
    for (const [i, output] of outputs.entries()) {
      const expected = tensorFile(join(folder, set, `output_${i}.pb`));
      if (expected.dims.join() !== output.shape.join())
        return {
          outcome: 'wrong',
          reason: `${set} output ${i}: shape [${output.shape.join(', ')}], expected [${expected.dims.join(', ')}]`,
        };
      const worst = Array.from(output.values).findIndex(
        (v, j) => !(Math.abs(v - expected.values[j]!) <= tolerance * Math.max(1, Math.abs(expected.values[j]!))),
      );
      if (worst >= 0)
        return { outcome: 'wrong', reason: `${set} output ${i}[${worst}]: ${output.values[worst]}, expected ${expected.values[worst]}` };
    }
  }
  return { outcome: 'passed' };
}
