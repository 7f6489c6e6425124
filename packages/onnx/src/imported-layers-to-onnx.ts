// The layers an imported model holds beyond the exporter's own (see onnx-to-layers.ts), back to
// ONNX: tfjs-layers' LayerNormalization, and the OnnxOp layer's operators. Each works on the tensor
// as tfjs holds it (NHWC for 4-D), so its attributes translate one to one.
import type { GraphBuilder, LayerView } from './layers-to-onnx.js';

type Tensor = { name: string; shape: (number | null)[] };

/** LayerNormalization, as opset 13 has none: (x − mean) / √(variance + ε) · γ + β over the layer's axes. */
export function layerNormalization(
  graph: GraphBuilder,
  layer: LayerView,
  input: string,
  rank: number,
  config: Record<string, unknown>,
  fail: (why: string) => never,
): string {
  const axes = [config.axis as number | number[]].flat().map((a) => (a < 0 ? a + rank : a));
  if (config.center === false || config.scale === false) fail('a layer norm without centre or scale');
  const x = graph.held(input, rank);
  const mean = graph.add('ReduceMean', [x], { axes, keepdims: 1 });
  const centred = graph.add('Sub', [x, mean]);
  const variance = graph.add('ReduceMean', [graph.add('Mul', [centred, centred])], { axes, keepdims: 1 });
  const epsilon = graph.weight([Number(config.epsilon ?? 1e-3)], []);
  const normal = graph.add('Div', [centred, graph.add('Sqrt', [graph.add('Add', [variance, epsilon])])]);
  // γ and β over the normalised axes, ones elsewhere, so that they broadcast against x.
  const shape = layer.inboundNodes[0]!.inputTensors[0]!.shape.map((d, i) => (axes.includes(i) ? d! : 1));
  const parameter = (name: string) => {
    const value = layer.weights.find((w) => w.originalName.endsWith(`/${name}`))!.read();
    return graph.weight(value.dataSync(), shape);
  };
  return graph.add('Add', [graph.add('Mul', [normal, parameter('gamma')]), parameter('beta')]);
}

const UNARY: Record<string, string> = {
  identity: 'Identity',
  relu: 'Relu',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  erf: 'Erf',
  sqrt: 'Sqrt',
  exp: 'Exp',
  neg: 'Neg',
  reciprocal: 'Reciprocal',
};
const BINARY: Record<string, string> = { add: 'Add', sub: 'Sub', mul: 'Mul', div: 'Div', power: 'Pow', matMul: 'MatMul' };

/** An OnnxOp layer back to the ONNX operators it stands for. */
export function onnxOpToOnnx(graph: GraphBuilder, layer: LayerView, inputs: Tensor[], output: Tensor, fail: (why: string) => never): void {
  const config = layer.getConfig() as {
    op: string;
    attributes: Record<string, number | boolean | number[]>;
    constants: { index: number; shape: number[] }[];
  };
  const a = config.attributes;
  const held = inputs.map((t) => graph.held(t.name, t.shape.length));
  // The operands in order: the inputs, with each constant (a weight of the layer) in its place.
  const operands = [...held];
  config.constants.forEach(({ index, shape }, i) => operands.splice(index, 0, graph.weight(layer.weights[i]!.read().dataSync(), shape)));
  const rank = output.shape.length;
  const define = (value: string) => graph.define(output.name, value, rank === 4 ? 'nhwc' : 'flat');
  const x = operands[0]!;
  const scalar = (value: number) => graph.weight([value], []);
  const hardSigmoid = (value: string, alpha: number, beta: number) =>
    graph.add('HardSigmoid', [value], { alpha: { float: alpha }, beta: { float: beta } });
  if (UNARY[config.op]) return define(graph.add(UNARY[config.op]!, [x]));
  if (BINARY[config.op]) return define(graph.add(BINARY[config.op]!, operands));
  switch (config.op) {
    case 'clip':
      return define(graph.add('Clip', [x, scalar(a.min as number), scalar(a.max as number)]));
    case 'leakyRelu':
      return define(graph.add('LeakyRelu', [x], { alpha: { float: a.alpha as number } }));
    case 'hardSigmoid':
      return define(hardSigmoid(x, a.alpha as number, a.beta as number));
    case 'hardSwish': // HardSwish came in opset 14
      return define(graph.add('Mul', [x, hardSigmoid(x, 1 / 6, 0.5)]));
    case 'pow':
      return define(graph.add('Pow', [x, scalar(a.exponent as number)]));
    case 'transpose':
      return define(graph.add('Transpose', [x], { perm: a.perm as number[] }));
    case 'reshape': // 0 keeps the batch's size
      return define(graph.add('Reshape', [x, graph.integers([0, ...(a.shape as number[])])]));
    case 'mean':
      return define(graph.add('ReduceMean', [x], { axes: a.axes as number[], keepdims: a.keepDims === true ? 1 : 0 }));
    case 'softmax':
      return define(graph.add('Softmax', [x], { axis: a.axis as number }));
    case 'concat':
      return define(graph.add('Concat', operands, { axis: a.axis as number }));
    case 'pool': {
      const dilated = (a.dilations as number[]).some((d) => d !== 1);
      if (dilated && a.max !== true) fail('a dilated average pool (ONNX has it from opset 19)');
      const attributes = {
        kernel_shape: a.kernel as number[],
        strides: a.strides as number[],
        pads: a.pads as number[],
        ceil_mode: a.ceil === true ? 1 : 0,
        ...(a.max === true ? (dilated ? { dilations: a.dilations as number[] } : {}) : { count_include_pad: a.countPads === true ? 1 : 0 }),
      };
      const pooled = graph.add(a.max === true ? 'MaxPool' : 'AveragePool', [graph.value(inputs[0]!.name, 'nchw')], attributes);
      return graph.define(output.name, pooled, 'nchw');
    }
    default:
      return fail(`the operator ${config.op} has no ONNX translation here`);
  }
}
