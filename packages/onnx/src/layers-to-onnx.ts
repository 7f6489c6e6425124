// Over 250 lines: one exporter, a case per tfjs layer it translates, each beside the others.
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { RxvisionError } from '@rxvision/errors';
import { type OnnxAttribute, type OnnxInitializer, onnxModel, type OnnxModelOptions, type OnnxNode } from './onnx-model.js';
import { layerNormalization, onnxOpToOnnx } from './imported-layers-to-onnx.js';

/** A model with a layer or setting that has no ONNX translation here; the message names it. */
export class OnnxExportError extends RxvisionError {
  override readonly name = 'OnnxExportError';
}

/** The graph's input and outputs, whatever the layers were called. */
export const ONNX_INPUT = 'images';
export const ONNX_LOGITS = 'logits';
export const ONNX_PROBABILITIES = 'probabilities';

/** What `layersToOnnx` reads of a tfjs-layers layer (public at run time, not all in its types). */
export interface LayerView {
  name: string;
  getClassName(): string;
  getConfig(): Record<string, unknown>;
  readonly weights: { readonly originalName: string; read(): { shape: number[]; dataSync(): ArrayLike<number> } }[];
  inboundNodes: {
    inputTensors: { name: string; shape: (number | null)[] }[];
    outputTensors: { name: string; shape: (number | null)[] }[];
  }[];
}

export type Layout = 'nhwc' | 'nchw' | 'flat';

const ACTIVATIONS: Record<string, string | null> = {
  linear: null,
  relu: 'Relu',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  softmax: 'Softmax',
  elu: 'Elu',
  selu: 'Selu',
  softplus: 'Softplus',
  softsign: 'Softsign',
  gelu: 'Gelu',
};

/**
 * A trained tfjs-layers model as ONNX bytes (opset 13): dense, 2-D convolutions, batch
 * normalisation (kept as ONNX's inference BatchNormalization, so its numbers are the model's),
 * max/average/global pooling, ReLU, GELU and the other common activations, rescaling, flatten, residual adds,
 * concatenation; dropout is left out, as at inference. The graph takes `images` as the tfjs model
 * does (NHWC float32, batch first; convolutions run NCHW inside behind one transpose) and gives
 * `logits`, the model's output, and `probabilities`, their softmax.
 *
 * ```ts
 * const bytes = layersToOnnx(model, { metadata: { author: 'me' } });
 * const session = await ort.InferenceSession.create(bytes);
 * const { probabilities } = await session.run({ images: new ort.Tensor('float32', pixels, [1, 32, 32, 3]) });
 * ```
 */
export function layersToOnnx(model: LayersModel, options: OnnxModelOptions = {}): Uint8Array {
  const graph = new GraphBuilder();
  const input = model.inputs[0]!;
  if (model.inputs.length !== 1 || model.outputs.length !== 1)
    throw new OnnxExportError(`${model.name}: only models of one input and one output are exported`);
  graph.define(input.name, ONNX_INPUT, input.shape.length === 4 ? 'nhwc' : 'flat');
  for (const layer of model.layers as unknown as LayerView[]) {
    if (layer.getClassName() === 'InputLayer') continue;
    if (layer.inboundNodes.length !== 1)
      throw new OnnxExportError(`${layer.name}: a layer used ${layer.inboundNodes.length} times is not exported`);
    translate(graph, layer);
  }
  const output = model.outputs[0]!;
  const logits = graph.value(output.name, 'nhwc');
  graph.add('Identity', [logits], {}, ONNX_LOGITS);
  graph.add('Softmax', [ONNX_LOGITS], { axis: -1 }, ONNX_PROBABILITIES);
  const batch = (shape: readonly (number | null)[]) => shape.map((d, i) => (i === 0 || d === null ? 'batch' : d));
  return onnxModel(
    {
      name: model.name,
      nodes: graph.nodes,
      initializers: graph.initializers,
      inputs: [{ name: ONNX_INPUT, dims: batch(input.shape) }],
      outputs: [ONNX_LOGITS, ONNX_PROBABILITIES].map((name) => ({ name, dims: batch(output.shape) })),
    },
    options,
  );
}

/** The nodes and weights so far, and under which name and layout each tfjs tensor lives. */
export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxInitializer[] = [];
  private readonly values = new Map<string, { name: string; layout: Layout }>();
  private readonly transposed = new Map<string, string>();
  private count = 0;

  define(tfjsName: string, onnxName: string, layout: Layout): void {
    this.values.set(tfjsName, { name: onnxName, layout });
  }

  layout(tfjsName: string): Layout {
    return this.known(tfjsName).layout;
  }

  /** The ONNX value holding a tfjs tensor in `layout` (4-D values are transposed once, on demand). */
  value(tfjsName: string, layout: Layout): string {
    const { name, layout: has } = this.known(tfjsName);
    if (has === 'flat' || has === layout || layout === 'flat') return name;
    const key = `${name}:${layout}`;
    let moved = this.transposed.get(key);
    if (!moved) {
      moved = this.add('Transpose', [name], { perm: layout === 'nchw' ? [0, 3, 1, 2] : [0, 2, 3, 1] });
      this.transposed.set(key, moved);
    }
    return moved;
  }

  weight(values: ArrayLike<number>, dims: readonly number[]): string {
    const name = `w${this.initializers.length}`;
    this.initializers.push({ name, dims, values: Float32Array.from(values) });
    return name;
  }

  /** An int64 vector (a shape, pads). */
  integers(values: readonly number[]): string {
    const name = `w${this.initializers.length}`;
    this.initializers.push({ name, dims: [values.length], values: BigInt64Array.from(values, BigInt) });
    return name;
  }

  /** The value holding a tfjs tensor as tfjs holds it: NHWC for 4-D, as it is otherwise. */
  held(tfjsName: string, rank: number): string {
    return this.value(tfjsName, rank === 4 ? 'nhwc' : 'flat');
  }

  add(
    op: string,
    inputs: readonly string[],
    attributes: Readonly<Record<string, OnnxAttribute>> = {},
    output = `t${this.count++}`,
  ): string {
    this.nodes.push({ op, inputs, outputs: [output], attributes });
    return output;
  }

  private known(tfjsName: string) {
    const value = this.values.get(tfjsName);
    if (!value) throw new OnnxExportError(`${tfjsName}: used before any layer made it (a model whose layers are out of order?)`);
    return value;
  }
}

function translate(graph: GraphBuilder, layer: LayerView): void {
  const config = layer.getConfig();
  const { inputTensors, outputTensors } = layer.inboundNodes[0]!;
  const inputs = inputTensors.map((t) => t.name);
  const output = outputTensors[0]!.name;
  const rank = inputTensors[0]!.shape.length;
  const spatial = rank === 4 ? 'nchw' : 'flat';
  const fail = (why: string): never => {
    throw new OnnxExportError(`${layer.name} (${layer.getClassName()}): ${why}`);
  };
  const activate = (value: string, layout: Layout) => {
    const name = String(config.activation ?? 'linear');
    if (!(name in ACTIVATIONS)) fail(`activation ${name} has no ONNX translation here`);
    const op = ACTIVATIONS[name];
    if (op === 'Softmax' && layout === 'nchw') fail('softmax over channels of an image');
    // ONNX has Gelu from opset 20 only: x · ½(1 + erf(x/√2)), as tfjs computes it.
    const gelu = (x: string) =>
      graph.add('Mul', [
        x,
        graph.add('Mul', [
          graph.add('Add', [graph.add('Erf', [graph.add('Div', [x, graph.weight([Math.SQRT2], [])])]), graph.weight([1], [])]),
          graph.weight([0.5], []),
        ]),
      ]);
    graph.define(output, op === 'Gelu' ? gelu(value) : op ? graph.add(op, [value]) : value, layout);
  };
  // By name: a layer lists its trainable weights first, so a frozen kernel comes after its bias.
  const weight = (name: string) => layer.weights.find((w) => w.originalName.endsWith(`/${name}`))?.read();
  switch (layer.getClassName()) {
    case 'Dense': {
      const [kernel, bias] = [weight('kernel'), weight('bias')];
      const [inputs_, units] = kernel!.shape as [number, number];
      const b = bias ? graph.weight(bias.dataSync(), [units]) : graph.weight(new Float32Array(units), [units]);
      const k = graph.weight(kernel!.dataSync(), [inputs_, units]);
      if (rank === 2) return activate(graph.add('Gemm', [graph.value(inputs[0]!, 'flat'), k, b]), 'flat');
      // Over the last axis of a tensor of any rank, as tfjs applies it (an imported MatMul by a constant).
      const layout = rank === 4 ? 'nhwc' : 'flat';
      return activate(graph.add('Add', [graph.add('MatMul', [graph.held(inputs[0]!, rank), k]), b]), layout);
    }
    case 'DepthwiseConv2D': {
      if (config.dataFormat !== 'channelsLast') fail('channels-first data');
      if (pair(config.dilationRate, 1).some((d) => d !== 1)) fail('dilated convolution');
      const [kernel, bias] = [weight('depthwise_kernel'), weight('bias')];
      const [kh, kw, channels, multiplier] = kernel!.shape as [number, number, number, number];
      // [kh, kw, channels, multiplier] → ONNX [channels·multiplier, 1, kh, kw], one group per channel.
      const oihw = toOihw(kernel!.dataSync(), kh, kw, 1, channels * multiplier);
      const attributes = { kernel_shape: [kh, kw], strides: pair(config.strides, 1), group: channels, ...padding(config.padding, fail) };
      const conv = [
        graph.value(inputs[0]!, 'nchw'),
        graph.weight(oihw, [channels * multiplier, 1, kh, kw]),
        ...(bias ? [graph.weight(bias.dataSync(), [channels * multiplier])] : []),
      ];
      return activate(graph.add('Conv', conv, attributes), 'nchw');
    }
    case 'ZeroPadding2D': {
      if (config.dataFormat !== 'channelsLast') fail('channels-first data');
      const [[top, bottom], [left, right]] = config.padding as [[number, number], [number, number]];
      const pads = graph.integers([0, 0, top, left, 0, 0, bottom, right]);
      return graph.define(output, graph.add('Pad', [graph.value(inputs[0]!, 'nchw'), pads]), 'nchw');
    }
    case 'LayerNormalization':
      return graph.define(output, layerNormalization(graph, layer, inputs[0]!, rank, config, fail), rank === 4 ? 'nhwc' : 'flat');
    case 'RxvisionOnnxOp':
      return onnxOpToOnnx(graph, layer, inputTensors, outputTensors[0]!, fail);
    case 'Conv2D': {
      if (config.dataFormat !== 'channelsLast') fail('channels-first data');
      if (pair(config.dilationRate, 1).some((d) => d !== 1)) fail('dilated convolution');
      const [kernel, bias] = [weight('kernel'), weight('bias')];
      const [kh, kw, channels, filters] = kernel!.shape as [number, number, number, number];
      const attributes = { kernel_shape: [kh, kw], strides: pair(config.strides, 1), ...padding(config.padding, fail) };
      const conv = [
        graph.value(inputs[0]!, 'nchw'),
        graph.weight(toOihw(kernel!.dataSync(), kh, kw, channels, filters), [filters, channels, kh, kw]),
        ...(bias ? [graph.weight(bias.dataSync(), [filters])] : []),
      ];
      return activate(graph.add('Conv', conv, attributes), 'nchw');
    }
    case 'BatchNormalization': {
      const axis = Number(config.axis);
      if (axis !== -1 && axis !== rank - 1) fail(`normalisation over axis ${axis}, not the channels`);
      const channels = inputTensors[0]!.shape[rank - 1]!;
      const gamma = config.scale ? weight('gamma')!.dataSync() : new Float32Array(channels).fill(1);
      const beta = config.center ? weight('beta')!.dataSync() : new Float32Array(channels);
      const parameters = [gamma, beta, weight('moving_mean')!.dataSync(), weight('moving_variance')!.dataSync()].map((v) =>
        graph.weight(v, [channels]),
      );
      return graph.define(
        output,
        graph.add('BatchNormalization', [graph.value(inputs[0]!, spatial), ...parameters], { epsilon: { float: Number(config.epsilon) } }),
        spatial,
      );
    }
    case 'ReLU': {
      const value = graph.value(inputs[0]!, graph.layout(inputs[0]!));
      if (config.maxValue != null)
        return graph.define(
          output,
          graph.add('Clip', [value, graph.weight([0], []), graph.weight([Number(config.maxValue)], [])]),
          graph.layout(inputs[0]!),
        );
      return graph.define(output, graph.add('Relu', [value]), graph.layout(inputs[0]!));
    }
    case 'Activation':
      return activate(graph.value(inputs[0]!, graph.layout(inputs[0]!)), graph.layout(inputs[0]!));
    case 'Rescaling': {
      const value = graph.value(inputs[0]!, graph.layout(inputs[0]!));
      const scaled = graph.add('Mul', [value, graph.weight([Number(config.scale)], [])]);
      return graph.define(
        output,
        Number(config.offset ?? 0) === 0 ? scaled : graph.add('Add', [scaled, graph.weight([Number(config.offset)], [])]),
        graph.layout(inputs[0]!),
      );
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      if (config.dataFormat !== 'channelsLast') fail('channels-first data');
      const kernel = pair(config.poolSize, 2);
      const attributes = { kernel_shape: kernel, strides: pair(config.strides ?? config.poolSize, 2), ...padding(config.padding, fail) };
      const op = layer.getClassName() === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool';
      return graph.define(output, graph.add(op, [graph.value(inputs[0]!, 'nchw')], attributes), 'nchw');
    }
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D': {
      if (config.dataFormat !== 'channelsLast') fail('channels-first data');
      const op = layer.getClassName() === 'GlobalAveragePooling2D' ? 'GlobalAveragePool' : 'GlobalMaxPool';
      return graph.define(output, graph.add('Flatten', [graph.add(op, [graph.value(inputs[0]!, 'nchw')])], { axis: 1 }), 'flat');
    }
    case 'Flatten':
      // tfjs flattens height, width, channels in that order: the NHWC order.
      return graph.define(output, graph.add('Flatten', [graph.value(inputs[0]!, 'nhwc')], { axis: 1 }), 'flat');
    case 'Dropout':
    case 'SpatialDropout1D':
    case 'GaussianNoise':
    case 'GaussianDropout':
    case 'AlphaDropout':
      return graph.define(output, graph.value(inputs[0]!, graph.layout(inputs[0]!)), graph.layout(inputs[0]!));
    case 'Add':
    case 'Multiply':
    case 'Maximum':
    case 'Minimum':
    case 'Average': {
      const layout = rank === 4 ? 'nchw' : 'flat';
      const values = inputs.map((name) => graph.value(name, layout));
      const op = { Add: 'Sum', Multiply: 'Mul', Maximum: 'Max', Minimum: 'Min', Average: 'Mean' }[layer.getClassName()]!;
      const combined = op === 'Mul' ? values.slice(1).reduce((a, b) => graph.add('Mul', [a, b]), values[0]!) : graph.add(op, values);
      return graph.define(output, combined, layout);
    }
    case 'Concatenate': {
      const axis = Number(config.axis ?? -1);
      if (axis !== -1 && axis !== rank - 1) fail(`concatenation over axis ${axis}, not the last`);
      const layout = rank === 4 ? 'nchw' : 'flat';
      return graph.define(
        output,
        graph.add(
          'Concat',
          inputs.map((name) => graph.value(name, layout)),
          { axis: rank === 4 ? 1 : -1 },
        ),
        layout,
      );
    }
    default:
      return fail('no ONNX translation here');
  }
}

/** A size or [height, width] setting as two numbers. */
function pair(value: unknown, fallback: number): number[] {
  if (Array.isArray(value)) return value.map(Number);
  return [Number(value ?? fallback), Number(value ?? fallback)];
}

/** tfjs's 'same' pads the extra row or column at the end, as ONNX's SAME_UPPER does. */
function padding(value: unknown, fail: (why: string) => never): Record<string, OnnxAttribute> {
  if (value === 'same') return { auto_pad: 'SAME_UPPER' };
  if (value === 'valid' || value === undefined) return { auto_pad: 'VALID' };
  return fail(`padding ${String(value)}`);
}

/** A tfjs kernel [kh, kw, in, out] in ONNX's order [out, in, kh, kw]. */
function toOihw(kernel: ArrayLike<number>, kh: number, kw: number, channels: number, filters: number): Float32Array {
  const out = new Float32Array(kernel.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let c = 0; c < channels; c++)
        for (let f = 0; f < filters; f++)
          out[((f * channels + c) * kh + y) * kw + x] = kernel[((y * kw + x) * channels + c) * filters + f]!;
  return out;
}
