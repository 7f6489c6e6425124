// Over 250 lines: one importer, a case per ONNX operator it translates, each beside the others.
import * as tf from '@tensorflow/tfjs-core';
import { input, type LayersModel, layers, model, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { OnnxOp, type OnnxOpArgs, type OpAttributes } from './onnx-op-layer.js';
import { type OnnxAttributeValue, OnnxImportError, type OnnxTensor, readOnnx, type ReadModel, type ReadNode } from './read-onnx.js';

export interface OnnxImportOptions {
  /** Graph inputs to take as constants (weights), as ONNX's own node tests feed a convolution's filter. */
  readonly constants?: Readonly<Record<string, OnnxTensor>>;
  /** Sizes for an input's named dimensions other than the batch (`{ height: 224 }`). */
  readonly dimensions?: Readonly<Record<string, number>>;
  /** The graph's outputs the model gives, by name (default all): `['logits']` of an rxvision export. */
  readonly outputs?: readonly string[];
  /**
   * Layers to build in place of tfjs-layers' own, with the same configuration and weights: those
   * that save as the same class but train faster (@rxvision/model's batch norm and ReLU, which run
   * as one native kernel each way where the backend has them). This package depends on neither.
   */
  readonly layers?: ImportedLayers;
}

/** The layer factories an import may be given (see OnnxImportOptions.layers). */
export interface ImportedLayers {
  readonly batchNormalization?: typeof layers.batchNormalization;
  /** For Relu: a layer saved as tfjs-layers' ReLU. */
  readonly reLU?: typeof layers.reLU;
}

/**
 * Whether a 4-D input is already channels last (NHWC): every node that reads it transposes it to
 * NCHW first, as rxvision's exports and TensorFlow conversions do. Such a transpose then costs
 * nothing: the importer keeps images channels last anyway.
 */
export function isChannelsLastInput(graph: ReadModel, name: string): boolean {
  const readers = graph.nodes.filter((node) => node.inputs.includes(name));
  const toNchw = (node: ReadNode) => node.op === 'Transpose' && node.attributes.perm?.ints?.join() === '0,3,1,2';
  return readers.length > 0 && readers.every(toNchw);
}

/**
 * A value while the graph is translated: a tensor of the model held in some order of ONNX's axes
 * (`order[k]` is where ONNX's axis k is), or a constant. Images stay channels last (NHWC) from the
 * input on, whatever ONNX's NCHW says, so convolutions and pooling run as tfjs runs them; an
 * operator that needs ONNX's order (a reshape) gets it through one transpose.
 */
type Held = { readonly tensor: SymbolicTensor; readonly order: readonly number[] };
type Value = Held | { readonly constant: OnnxTensor };

const CHANNELS_LAST = [0, 3, 1, 2] as const;
const identity = (rank: number) => Array.from({ length: rank }, (_, i) => i);
const isIdentity = (order: readonly number[]) => order.every((axis, i) => axis === i);

/**
 * An ONNX image classifier (or any graph of the operators below whose first axis is the batch) as
 * a tfjs-layers model whose weights train: convolutions, batch norms and dense layers become
 * tfjs-layers' own (named after their ONNX weights, `layer1.0.conv1`), everything else an
 * `OnnxOp` layer. A 4-D input is taken channels last (NHWC), as rxvision's images are; weights are
 * transposed once. An operator, attribute or shape it cannot take is an OnnxImportError naming the
 * node and the operator.
 *
 * ```ts
 * const net = onnxToLayers(await readFile('resnet18.onnx'));
 * net.predict(tf.zeros([1, 224, 224, 3]));
 * ```
 */
export function onnxToLayers(bytes: Uint8Array | ReadModel, options: OnnxImportOptions = {}): LayersModel {
  const graph = bytes instanceof Uint8Array ? readOnnx(bytes) : bytes;
  return new Importer(graph, options).build();
}

class Importer {
  private readonly values = new Map<string, Value>();
  private readonly names = new Set<string>();
  /** The batch sizes the inputs declare (torch.onnx.export fixes 1 unless told otherwise). */
  readonly batchSizes = new Set<number>();
  private readonly inputs: SymbolicTensor[] = [];
  private readonly pendingWeights: { layer: tf.serialization.Serializable & { setWeights(w: tf.Tensor[]): void }; weights: tf.Tensor[] }[] =
    [];

  constructor(
    private readonly graph: ReadModel,
    private readonly options: OnnxImportOptions,
  ) {}

  /** The layer factories given for this import. */
  get layers(): ImportedLayers {
    return this.options.layers ?? {};
  }

  /** The default domain's opset: some operators changed meaning across opsets. */
  get opset(): number {
    return this.graph.opset;
  }

  build(): LayersModel {
    for (const [name, tensor] of this.graph.initializers) this.values.set(name, { constant: tensor });
    for (const [name, tensor] of Object.entries(this.options.constants ?? {})) this.values.set(name, { constant: { ...tensor, name } });
    for (const value of this.graph.inputs) if (!this.values.has(value.name)) this.addInput(value);
    if (this.inputs.length === 0) throw new OnnxImportError('the graph has no input that is not a constant');
    for (const node of this.graph.nodes) this.translate(node);
    const wanted = this.options.outputs ?? this.graph.outputs.map((output) => output.name);
    const unknown = wanted.find((name) => !this.graph.outputs.some((output) => output.name === name));
    if (unknown !== undefined) throw new OnnxImportError(`the graph has no output ${unknown}`);
    const outputs = this.graph.outputs
      .filter((output) => wanted.includes(output.name))
      .map((output) => {
        const value = this.values.get(output.name);
        if (!value || 'constant' in value) throw new OnnxImportError(`output ${output.name} is a constant, not computed from the inputs`);
        return this.inOnnxOrder(value, `output_${output.name}`);
      });
    const imported = model({ inputs: this.inputs, outputs, name: 'onnx' });
    for (const { layer, weights } of this.pendingWeights) {
      layer.setWeights(weights);
      tf.dispose(weights);
    }
    return imported;
  }

  private addInput(value: ReadModel['inputs'][number]): void {
    if (value.elementType !== 1) throw new OnnxImportError(`input ${value.name}: only float inputs are imported`);
    if (!value.dims) throw new OnnxImportError(`input ${value.name}: its shape is not given`);
    if (value.dims.length < 2)
      throw new OnnxImportError(`input ${value.name}: ${value.dims.length}-D; an input has a batch axis and at least one more`);
    if (typeof value.dims[0] === 'number') this.batchSizes.add(value.dims[0]);
    const dims = value.dims.slice(1).map((dim) => {
      const size = typeof dim === 'number' ? dim : this.options.dimensions?.[dim];
      if (size === undefined || size < 1)
        throw new OnnxImportError(
          `input ${value.name}: dimension ${String(dim)} is dynamic; give its size (dimensions: { ${String(dim)}: … })`,
        );
      return size;
    });
    // NCHW images are taken channels last; an input already channels last stays as it is.
    const image = dims.length === 3 && !isChannelsLastInput(this.graph, value.name);
    const tensor = input({ shape: image ? [dims[1]!, dims[2]!, dims[0]!] : dims, name: this.layerName(value.name) });
    this.inputs.push(tensor);
    this.values.set(value.name, { tensor, order: image ? CHANNELS_LAST : identity(dims.length + 1) });
  }

  private translate(node: ReadNode): void {
    const where = `node ${node.name || node.outputs[0]} (${node.op})`;
    if (node.domain !== '' && node.domain !== 'ai.onnx')
      throw new OnnxImportError(`${where}: operators of domain ${node.domain} are not imported`);
    const translate = TRANSLATIONS[node.op];
    if (!translate) throw new OnnxImportError(`${where}: the operator ${node.op} is not imported`);
    const context = new NodeContext(this, node, where);
    const outputs = translate(context);
    node.outputs.forEach((name, i) => {
      if (name !== '' && outputs[i]) this.values.set(name, outputs[i]!);
    });
  }

  /** Names a value computed inside a translation (a sum's partial). */
  define(name: string, value: Value): void {
    this.values.set(name, value);
  }

  value(name: string, where: string): Value {
    const value = this.values.get(name);
    if (!value) throw new OnnxImportError(`${where}: its input ${name} is not computed before it`);
    return value;
  }

  /** A layer name tfjs accepts, unique in the model, from an ONNX name. */
  layerName(base: string): string {
    const clean = base.replace(/^[^A-Za-z0-9]+/, '').replace(/[^-A-Za-z0-9._/]/g, '_') || 'node';
    let name = clean;
    for (let i = 1; this.names.has(name); i++) name = `${clean}_${i}`;
    this.names.add(name);
    return name;
  }

  apply(
    layer: tf.serialization.Serializable & { apply(x: SymbolicTensor | SymbolicTensor[]): unknown },
    x: SymbolicTensor | SymbolicTensor[],
  ) {
    return layer.apply(x) as SymbolicTensor;
  }

  withWeights<L extends tf.serialization.Serializable & { setWeights(w: tf.Tensor[]): void }>(layer: L, weights: tf.Tensor[]): L {
    this.pendingWeights.push({ layer, weights });
    return layer;
  }

  op(args: OnnxOpArgs, inputs: SymbolicTensor[], weights: tf.Tensor[] = []): SymbolicTensor {
    const layer = new OnnxOp({ ...args, name: this.layerName(args.name) });
    if (weights.length > 0) this.withWeights(layer, weights);
    return this.apply(layer, inputs.length === 1 ? inputs[0]! : inputs);
  }

  /** The tensor in ONNX's own order (one transpose where it is held otherwise). */
  inOnnxOrder(value: Value, name: string): SymbolicTensor {
    if ('constant' in value) throw new OnnxImportError(`${name}: a constant where a computed tensor is needed`);
    if (isIdentity(value.order)) return value.tensor;
    return this.op({ name: `${name}_to_onnx_order`, op: 'transpose', attributes: { perm: [...value.order] } }, [value.tensor]);
  }

  /** A 4-D tensor channels last (NHWC). */
  channelsLast(value: Value, name: string): SymbolicTensor {
    if ('constant' in value) throw new OnnxImportError(`${name}: a constant where a computed tensor is needed`);
    if (value.order.length !== 4) throw new OnnxImportError(`${name}: a 4-D (NCHW) input is needed, not ${value.order.length}-D`);
    if (value.order.every((axis, i) => axis === CHANNELS_LAST[i])) return value.tensor;
    return this.op({ name: `${name}_to_channels_last`, op: 'transpose', attributes: { perm: [0, 2, 3, 1] } }, [
      this.inOnnxOrder(value, name),
    ]);
  }
}

/** What a translation reads of its node: inputs, attributes, and the importer's helpers. */
class NodeContext {
  constructor(
    readonly importer: Importer,
    readonly node: ReadNode,
    readonly where: string,
  ) {}

  fail(problem: string): never {
    throw new OnnxImportError(`${this.where}: ${problem}`);
  }

  input(i: number): Value {
    const name = this.node.inputs[i];
    if (name === undefined || name === '') this.fail(`input ${i + 1} is missing`);
    return this.importer.value(name, this.where);
  }

  has(i: number): boolean {
    return (this.node.inputs[i] ?? '') !== '';
  }

  tensor(i: number): Held {
    const value = this.input(i);
    if ('constant' in value) this.fail(`input ${i + 1} (${this.node.inputs[i]}) is a constant; it is imported only as a computed tensor`);
    return value;
  }

  constant(i: number): OnnxTensor {
    const value = this.input(i);
    if (!('constant' in value)) this.fail(`input ${i + 1} (${this.node.inputs[i]}) must be a constant (an initializer)`);
    return value.constant;
  }

  attribute(name: string): OnnxAttributeValue | undefined {
    return this.node.attributes[name];
  }

  int(name: string, fallback: number): number {
    return this.attribute(name)?.int ?? fallback;
  }

  float(name: string, fallback: number): number {
    return this.attribute(name)?.float ?? fallback;
  }

  ints(name: string): readonly number[] | undefined {
    return this.attribute(name)?.ints;
  }

  /** A name for the node's layer: its weight's (`layer1.0.conv1` of `layer1.0.conv1.weight`), else its own. */
  layerName(weight?: number): string {
    const named = weight === undefined ? undefined : this.node.inputs[weight];
    const value = named ? this.importer.value(named, this.where) : undefined;
    // A constant folded from a weight (a Linear's transposed weight) keeps the weight's name.
    if (value && 'constant' in value) return (value.constant.name || named!).replace(/\.(weight|bias|scale)$/, '');
    return this.node.name || `${this.node.op}_${this.node.outputs[0]}`;
  }

  /** An output held in `order`. */
  out(tensor: SymbolicTensor, order: readonly number[]): Held {
    return { tensor, order };
  }
}

type Translation = (c: NodeContext) => Value[];

const toTensor = (t: OnnxTensor) => tf.tensor(Float32Array.from(t.values), [...t.dims], 'float32');
const ints = (t: OnnxTensor) => Array.from(t.values);

/** Unary element-wise operators: same order out as in. */
function elementwise(op: string, attributes: (c: NodeContext) => OpAttributes = () => ({})): Translation {
  return (c) => {
    const x = c.tensor(0);
    return [c.out(c.importer.op({ name: c.layerName(), op, attributes: attributes(c) }, [x.tensor]), x.order)];
  };
}

/** Binary element-wise operators with numpy broadcasting; a constant operand is a weight of the layer. */
function binary(op: string, trainable = true): Translation {
  return (c) => {
    const [a, b] = [c.input(0), c.input(1)];
    if ('constant' in a && 'constant' in b) c.fail('both operands are constants (fold them before importing)');
    if (!('constant' in a) && !('constant' in b)) {
      const rank = Math.max(a.order.length, b.order.length);
      const sameOrder = a.order.length === b.order.length && a.order.every((axis, i) => axis === b.order[i]);
      const [x, y, order] = sameOrder
        ? [a.tensor, b.tensor, a.order]
        : [c.importer.inOnnxOrder(a, `${c.layerName()}_a`), c.importer.inOnnxOrder(b, `${c.layerName()}_b`), identity(rank)];
      if (!sameOrder && a.order.length !== b.order.length) c.fail('operands of different ranks held in different orders');
      return [c.out(c.importer.op({ name: c.layerName(), op, attributes: {} }, [x, y]), order)];
    }
    const [tensor, constant, index] =
      'constant' in a ? [b as Exclude<Value, { constant: OnnxTensor }>, a.constant, 0] : [a, (b as { constant: OnnxTensor }).constant, 1];
    const weight = alignConstant(c, constant, tensor.order);
    const attributes = {};
    const layer = { name: c.layerName(), op, attributes, constants: [{ index, shape: weight.shape }], trainable };
    return [c.out(c.importer.op(layer, [tensor.tensor], [weight]), tensor.order)];
  };
}

/** Sum of any number of inputs (rxvision's exports write residual adds so): added two at a time. */
function sum(c: NodeContext): Value[] {
  const count = c.node.inputs.length;
  if (count === 1) return [c.input(0)];
  let total = binary('add')(new NodeContext(c.importer, { ...c.node, inputs: c.node.inputs.slice(0, 2) }, c.where))[0]!;
  for (let i = 2; i < count; i++) {
    const name = `${c.node.outputs[0]}_sum_${i}`;
    c.importer.define(name, total);
    const node = { ...c.node, name: `${c.node.name || c.node.outputs[0]}_${i}`, inputs: [name, c.node.inputs[i]!] };
    total = binary('add')(new NodeContext(c.importer, node, c.where))[0]!;
  }
  return [total];
}

/** A constant broadcast against a tensor held in `order`: to its rank, then into that order. */
function alignConstant(c: NodeContext, constant: OnnxTensor, order: readonly number[]): tf.Tensor {
  const rank = order.length;
  if (constant.dims.length > rank) c.fail(`a constant of rank ${constant.dims.length} against a tensor of rank ${rank}`);
  const dims = [...Array<number>(rank - constant.dims.length).fill(1), ...constant.dims];
  if (dims[0] !== 1) c.fail(`a constant of shape [${constant.dims.join(', ')}] would broadcast along the batch axis`);
  // Where tensor axis j holds ONNX axis k (order[k] = j), the constant's axis j is its ONNX axis k.
  const inverse = order.map((_, j) => order.indexOf(j));
  return tf.tidy(() => tf.transpose(tf.reshape(toTensor(constant), dims), inverse));
}

/** An axis attribute (negative from the end) as the axis of the tensor as held. */
function heldAxis(c: NodeContext, axis: number, order: readonly number[]): number {
  const rank = order.length;
  const onnx = axis < 0 ? axis + rank : axis;
  if (onnx < 0 || onnx >= rank) c.fail(`axis ${axis} is outside a tensor of rank ${rank}`);
  if (onnx === 0) c.fail('it works along the batch axis (axis 0), which an imported model keeps');
  return order[onnx]!;
}

/** ONNX's pads [top, left, bottom, right] for a 2-D window, auto_pad included. */
function windowPads(
  c: NodeContext,
  size: readonly [number, number],
  kernel: readonly number[],
  strides: readonly number[],
  dilations: readonly number[],
) {
  const autoPad = c.attribute('auto_pad')?.string ?? 'NOTSET';
  if (autoPad === 'NOTSET') return [...(c.ints('pads') ?? [0, 0, 0, 0])];
  if (autoPad === 'VALID') return [0, 0, 0, 0];
  const total = size.map((s, i) => Math.max(0, (Math.ceil(s / strides[i]!) - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - s));
  const lower = autoPad === 'SAME_LOWER';
  const begin = total.map((t) => (lower ? Math.ceil(t / 2) : Math.floor(t / 2)));
  return [begin[0]!, begin[1]!, total[0]! - begin[0]!, total[1]! - begin[1]!];
}

function windowAttributes(c: NodeContext, x: SymbolicTensor, kernel: readonly number[]) {
  if (kernel.length !== 2) c.fail(`only 2-D windows are imported, not ${kernel.length}-D`);
  const strides = c.ints('strides') ?? [1, 1];
  const dilations = c.ints('dilations') ?? [1, 1];
  const size = [x.shape[1]!, x.shape[2]!] as const;
  return { strides, dilations, pads: windowPads(c, size, kernel, strides, dilations) };
}

function conv(c: NodeContext): Value[] {
  const x = c.importer.channelsLast(c.input(0), c.layerName(1));
  const weight = c.constant(1);
  const [outChannels, perGroup, kh, kw] = weight.dims as [number, number, number, number];
  const channels = x.shape[3]!;
  const group = c.int('group', 1);
  const kernel = c.ints('kernel_shape') ?? [kh, kw];
  const { strides, dilations, pads } = windowAttributes(c, x, kernel);
  if (weight.dims.length !== 4) c.fail('only 2-D convolutions are imported');
  if (strides.some((s) => s > 1) && dilations.some((d) => d > 1)) c.fail('a convolution both strided and dilated is not imported');
  const depthwise = group > 1 && group === channels && perGroup === 1;
  if (group > 1 && !depthwise)
    c.fail(`group ${group} of ${channels} channels: only depthwise (group = channels) and ungrouped convolutions are imported`);
  const bias = c.has(2) ? c.constant(2) : undefined;
  const name = c.importer.layerName(c.layerName(1));
  const filter = tf.tidy(() => {
    const w = toTensor(weight);
    // ONNX [out, in/group, kh, kw] → tfjs HWIO, or depthwise [kh, kw, channels, multiplier].
    return depthwise
      ? tf.transpose(tf.reshape(w, [channels, outChannels / channels, kh, kw]), [2, 3, 0, 1])
      : tf.transpose(w, [2, 3, 1, 0]);
  });
  const [top, left, bottom, right] = pads as [number, number, number, number];
  const symmetricSame =
    strides.every((s) => s === 1) && [0, 1].every((i) => (kernel[i]! - 1) * dilations[i]! === (i === 0 ? top + bottom : left + right));
  const same = symmetricSame && top === bottom && left === right;
  let padded = x;
  if (!same && pads.some((p) => p > 0))
    padded = c.importer.apply(
      layers.zeroPadding2d({
        padding: [
          [top, bottom],
          [left, right],
        ],
        name: c.importer.layerName(`${name}_pad`),
      }),
      x,
    );
  const common = {
    kernelSize: [kh, kw] as [number, number],
    strides: [strides[0]!, strides[1]!] as [number, number],
    dilationRate: [dilations[0]!, dilations[1]!] as [number, number],
    padding: same ? ('same' as const) : ('valid' as const),
    useBias: bias !== undefined,
    name,
  };
  const layer = depthwise
    ? layers.depthwiseConv2d({ ...common, depthMultiplier: outChannels / channels })
    : layers.conv2d({ ...common, filters: outChannels });
  c.importer.withWeights(layer, bias ? [filter, toTensor(bias)] : [filter]);
  return [c.out(c.importer.apply(layer, padded), CHANNELS_LAST)];
}

/** Relu as the ReLU layer given (element-wise: the tensor keeps its order), else an OnnxOp. */
function relu(c: NodeContext): Value[] {
  const make = c.importer.layers.reLU;
  if (!make) return elementwise('relu')(c);
  const x = c.tensor(0);
  return [c.out(c.importer.apply(make({ name: c.importer.layerName(c.layerName()) }), x.tensor), x.order)];
}

function batchNormalization(c: NodeContext): Value[] {
  if (c.int('training_mode', 0) !== 0 || c.node.outputs.length > 1) c.fail('only inference batch normalisation (one output) is imported');
  const x = c.tensor(0);
  const [scale, offset, mean, variance] = [1, 2, 3, 4].map((i) => toTensor(c.constant(i)));
  const layer = (c.importer.layers.batchNormalization ?? layers.batchNormalization)({
    axis: x.order[1]!,
    epsilon: c.float('epsilon', 1e-5),
    momentum: c.float('momentum', 0.9),
    name: c.importer.layerName(c.layerName(1)),
  });
  c.importer.withWeights(layer, [scale!, offset!, mean!, variance!]);
  return [c.out(c.importer.apply(layer, x.tensor), x.order)];
}

function pool(max: boolean, global = false): Translation {
  return (c) => {
    const x = c.importer.channelsLast(c.input(0), c.layerName());
    if (global)
      return [c.out(c.importer.op({ name: c.layerName(), op: 'mean', attributes: { axes: [1, 2], keepDims: true } }, [x]), CHANNELS_LAST)];
    const kernel = c.ints('kernel_shape') ?? c.fail('kernel_shape is missing');
    const { strides, dilations, pads } = windowAttributes(c, x, kernel);
    if (c.node.outputs.length > 1 && c.node.outputs[1] !== '') c.fail('the indices output is not imported');
    const attributes = {
      max,
      kernel: [...kernel],
      strides: [...strides],
      dilations: [...dilations],
      pads,
      ceil: c.int('ceil_mode', 0) === 1,
      countPads: c.int('count_include_pad', 0) === 1,
    };
    return [c.out(c.importer.op({ name: c.layerName(), op: 'pool', attributes }, [x]), CHANNELS_LAST)];
  };
}

/** Gemm and MatMul by a constant matrix: a dense layer (alpha and beta folded in); otherwise a product of two tensors. */
function gemm(c: NodeContext): Value[] {
  if (c.int('transA', 0) !== 0) c.fail('transA would move the batch axis');
  const b = c.input(1);
  if (!('constant' in b)) {
    if (c.has(2) || c.int('transB', 0) !== 0 || c.float('alpha', 1) !== 1)
      c.fail('a product of two computed tensors is imported without bias, transpose or alpha');
    return matMul(c);
  }
  const x = c.importer.inOnnxOrder(c.input(0), c.layerName(1));
  if (b.constant.dims.length !== 2) c.fail('the matrix must be 2-D');
  const alpha = c.float('alpha', 1);
  const beta = c.float('beta', 1);
  const kernel = tf.tidy(() => tf.mul(c.int('transB', 0) === 1 ? tf.transpose(toTensor(b.constant)) : toTensor(b.constant), alpha));
  const units = kernel.shape[1]!;
  const bias = c.has(2) ? c.constant(2) : undefined;
  if (bias && bias.values.length !== 1 && bias.values.length !== units)
    c.fail(`a bias of shape [${bias.dims.join(', ')}] varies along the batch`);
  const weights = [kernel];
  if (bias) weights.push(tf.tidy(() => tf.mul(tf.broadcastTo(tf.reshape(toTensor(bias), [-1]), [units]), beta)));
  const layer = layers.dense({ units, useBias: bias !== undefined, name: c.importer.layerName(c.layerName(1)) });
  c.importer.withWeights(layer, weights);
  return [c.out(c.importer.apply(layer, x), identity(x.shape.length))];
}

function matMul(c: NodeContext): Value[] {
  const b = c.input(1);
  if ('constant' in b && b.constant.dims.length === 2) return gemm(c);
  const x = c.importer.inOnnxOrder(c.input(0), c.layerName());
  const y = c.importer.inOnnxOrder(b, `${c.layerName()}_b`);
  if (x.shape.length < 2 || y.shape.length < 2) c.fail('products of vectors are not imported');
  return [
    c.out(c.importer.op({ name: c.layerName(), op: 'matMul', attributes: {} }, [x, y]), identity(Math.max(x.shape.length, y.shape.length))),
  ];
}

/** Every axis but the batch's sizes, in ONNX's order. */
const sampleDims = (x: SymbolicTensor) => x.shape.slice(1) as number[];

function reshapeTo(c: NodeContext, x: SymbolicTensor, onnxShape: readonly number[]): Value[] {
  const inputDims = sampleDims(x);
  const size = inputDims.reduce((p, d) => p * d, 1);
  const allowZero = c.int('allowzero', 0) === 1;
  const dims = onnxShape.map((d, i) =>
    d === 0 && !allowZero ? (i === 0 ? -2 : (inputDims[i - 1] ?? c.fail('0 copies a dimension the input lacks'))) : d,
  );
  // The first entry is the batch: copied (0), inferred (-1) or 1-as-exported; the rest must hold one sample.
  const batch = [-2, -1, 1].includes(dims[0]!) || (c.importer.batchSizes.size === 1 && c.importer.batchSizes.has(dims[0]!));
  if (!batch) c.fail(`shape [${onnxShape.join(', ')}] would change the batch axis`);
  const rest = dims.slice(1);
  const known = rest.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  const resolved = rest.map((d) => (d === -1 ? size / known : d));
  if (resolved.reduce((p, d) => p * d, 1) !== size || !resolved.every(Number.isInteger))
    c.fail(`shape [${onnxShape.join(', ')}] does not keep the batch axis and one sample's ${size} values`);
  return [
    c.out(c.importer.op({ name: c.layerName(), op: 'reshape', attributes: { shape: resolved } }, [x]), identity(resolved.length + 1)),
  ];
}

function flatten(c: NodeContext): Value[] {
  const value = c.tensor(0);
  const rank = value.order.length;
  const axis = c.int('axis', 1) < 0 ? c.int('axis', 1) + rank : c.int('axis', 1);
  if (axis !== 1) c.fail(`axis ${c.int('axis', 1)} would merge or move the batch axis; only axis 1 is imported`);
  const dims = [...value.tensor.shape.slice(1)] as number[];
  // [N, C, 1, 1] held channels last flattens to the same values in the same order: no transpose.
  const spatialOnes = rank === 4 && dims.filter((d, i) => i !== 2 && d === 1).length >= 2 && value.order[1] === 3;
  const x = spatialOnes ? value.tensor : c.importer.inOnnxOrder(value, c.layerName());
  return reshapeTo(c, x, [0, dims.reduce((p, d) => p * d, 1)]);
}

function transpose(c: NodeContext): Value[] {
  const input = c.input(0);
  if ('constant' in input) return [{ constant: transposedConstant(input.constant, c.ints('perm')) }];
  const x = c.tensor(0);
  const perm = c.ints('perm') ?? identity(x.order.length).reverse();
  if (perm[0] !== 0) c.fail(`perm [${perm.join(', ')}] moves the batch axis`);
  // A relabelling: ONNX's axis i of the output is its axis perm[i] of the input.
  return [
    c.out(
      x.tensor,
      perm.map((axis) => x.order[axis]!),
    ),
  ];
}

/**
 * A constant transposed at import, as torch.onnx.export leaves a Linear's weight on a 4-D input
 * (ConvNeXt's blocks) when constant folding is off; exact for int64 values too.
 */
function transposedConstant(t: OnnxTensor, perm: readonly number[] = identity(t.dims.length).reverse()): OnnxTensor {
  const dims = perm.map((axis) => t.dims[axis]!);
  const strides = t.dims.map((_, i) => t.dims.slice(i + 1).reduce((a, b) => a * b, 1));
  const values = new (t.values.constructor as Float32ArrayConstructor | Float64ArrayConstructor)(t.values.length);
  const index = new Array<number>(dims.length).fill(0);
  for (let out = 0; out < values.length; out++) {
    values[out] = t.values[index.reduce((at, v, i) => at + v * strides[perm[i]!]!, 0)]!;
    for (let i = dims.length - 1; i >= 0 && ++index[i]! === dims[i]; i--) index[i] = 0;
  }
  return { ...t, dims, values };
}

function reduceMean(c: NodeContext): Value[] {
  const x = c.tensor(0);
  const rank = x.order.length;
  const axes = c.ints('axes') ?? (c.has(1) ? ints(c.constant(1)) : identity(rank));
  const keepDims = c.int('keepdims', 1) === 1;
  const held = axes.map((axis) => heldAxis(c, axis, x.order));
  const order = keepDims
    ? x.order
    : orderWithout(
        x.order,
        axes.map((a) => (a < 0 ? a + rank : a)),
      );
  return [c.out(c.importer.op({ name: c.layerName(), op: 'mean', attributes: { axes: held, keepDims } }, [x.tensor]), order)];
}

/** The order left when ONNX axes `removed` (and the axes they are held at) are reduced away. */
function orderWithout(order: readonly number[], removed: readonly number[]): number[] {
  const kept = order.filter((_, k) => !removed.includes(k));
  const sorted = [...kept].sort((a, b) => a - b);
  return kept.map((axis) => sorted.indexOf(axis));
}

function clip(c: NodeContext): Value[] {
  const bound = (i: number, attribute: string, fallback: number) => (c.has(i) ? c.constant(i).values[0]! : c.float(attribute, fallback));
  const [min, max] = [bound(1, 'min', -Infinity), bound(2, 'max', Infinity)];
  return elementwise('clip', () => ({ min, max }))(c);
}

function concat(c: NodeContext): Value[] {
  const values = c.node.inputs.map((_, i) => c.tensor(i));
  const first = values[0]!;
  const sameOrder = values.every((v) => v.order.every((axis, i) => axis === first.order[i]));
  const order = sameOrder ? first.order : identity(first.order.length);
  const tensors = sameOrder ? values.map((v) => v.tensor) : values.map((v, i) => c.importer.inOnnxOrder(v, `${c.layerName()}_${i}`));
  const axis = heldAxis(c, c.int('axis', 1), order);
  return [c.out(c.importer.op({ name: c.layerName(), op: 'concat', attributes: { axis } }, tensors), order)];
}

function softmax(c: NodeContext): Value[] {
  const x = c.tensor(0);
  const rank = x.order.length;
  const axis = c.int('axis', c.importer.opset >= 13 ? -1 : 1);
  if (c.importer.opset < 13 && (axis < 0 ? axis + rank : axis) !== rank - 1)
    c.fail(`opset ${c.importer.opset}'s softmax over axes ${axis}… is imported only for the last axis`);
  return [
    c.out(c.importer.op({ name: c.layerName(), op: 'softmax', attributes: { axis: heldAxis(c, axis, x.order) } }, [x.tensor]), x.order),
  ];
}

/** Over ONNX's axes `axis`… (the batch's excepted), with the Mean and InvStdDev outputs where asked. */
function layerNormalization(c: NodeContext): Value[] {
  const value = c.tensor(0);
  const rank = value.order.length;
  const axis = c.int('axis', -1) < 0 ? c.int('axis', -1) + rank : c.int('axis', -1);
  if (axis < 1) c.fail('it normalises along the batch axis (axis 0), which an imported model keeps');
  const epsilon = c.float('epsilon', 1e-5);
  // Held as ONNX holds it, unless only the last axis is normalised (the scale then has one axis either way).
  const x = axis === rank - 1 ? value : c.out(c.importer.inOnnxOrder(value, c.layerName(1)), identity(rank));
  const axes = identity(rank)
    .slice(axis)
    .map((a) => x.order[a]!);
  const scale = toTensor(c.constant(1));
  const offset = c.has(2) ? toTensor(c.constant(2)) : tf.zerosLike(scale);
  const layer = layers.layerNormalization({ axis: axes, epsilon, name: c.importer.layerName(c.layerName(1)) });
  c.importer.withWeights(layer, [scale, offset]);
  const outputs = [c.out(c.importer.apply(layer, x.tensor), x.order)];
  const statistic = (op: string) =>
    c.out(c.importer.op({ name: `${c.layerName()}_${op}`, op, attributes: { axes, keepDims: true, epsilon } }, [x.tensor]), x.order);
  if ((c.node.outputs[1] ?? '') !== '') outputs.push(statistic('mean'));
  if ((c.node.outputs[2] ?? '') !== '') outputs.push(statistic('inverseStandardDeviation'));
  return outputs;
}

/** A scalar exponent is an attribute; any other is an operand that does not train. */
function pow(c: NodeContext): Value[] {
  const exponent = c.input(1);
  if ('constant' in exponent && exponent.constant.values.length === 1)
    return elementwise('pow', () => ({ exponent: exponent.constant.values[0]! }))(c);
  return binary('power', false)(c);
}

function constant(c: NodeContext): Value[] {
  const tensor = c.attribute('value')?.tensor;
  if (!tensor) c.fail('only a tensor value is imported');
  return [{ constant: tensor }];
}

/** Dropout as at inference (fit's training calls do not reach it); a graph that asks for training mode is refused. */
function dropout(c: NodeContext): Value[] {
  if (c.has(2) && c.constant(2).values[0] !== 0) c.fail('dropout in training mode is not imported');
  if (c.node.outputs.length > 1 && c.node.outputs[1] !== '') c.fail('the mask output is not imported');
  return passThrough(c);
}

function passThrough(c: NodeContext): Value[] {
  return [c.input(0)];
}

const TRANSLATIONS: Record<string, Translation> = {
  Conv: conv,
  BatchNormalization: batchNormalization,
  Relu: relu,
  LeakyRelu: elementwise('leakyRelu', (c) => ({ alpha: c.float('alpha', 0.01) })),
  Sigmoid: elementwise('sigmoid'),
  Tanh: elementwise('tanh'),
  Erf: elementwise('erf'),
  Sqrt: elementwise('sqrt'),
  Exp: elementwise('exp'),
  Neg: elementwise('neg'),
  Reciprocal: elementwise('reciprocal'),
  HardSigmoid: elementwise('hardSigmoid', (c) => ({ alpha: c.float('alpha', 0.2), beta: c.float('beta', 0.5) })),
  HardSwish: elementwise('hardSwish'),
  Clip: clip,
  Pow: pow,
  Add: binary('add'),
  Sum: sum,
  Sub: binary('sub'),
  Mul: binary('mul'),
  Div: binary('div'),
  MaxPool: pool(true),
  AveragePool: pool(false),
  GlobalAveragePool: pool(false, true),
  ReduceMean: reduceMean,
  Flatten: flatten,
  Reshape: (c) => reshapeTo(c, c.importer.inOnnxOrder(c.input(0), c.layerName()), ints(c.constant(1))),
  Gemm: gemm,
  MatMul: matMul,
  Concat: concat,
  Transpose: transpose,
  Softmax: softmax,
  LayerNormalization: layerNormalization,
  Constant: constant,
  Identity: passThrough,
  Dropout: dropout,
};

/** The operators `onnxToLayers` imports. */
export const IMPORTED_OPERATORS: readonly string[] = Object.keys(TRANSLATIONS);
