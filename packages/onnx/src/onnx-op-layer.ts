import * as tf from '@tensorflow/tfjs-core';
import { initializers, layers } from '@tensorflow/tfjs-layers';

/**
 * The one layer an imported model uses where tfjs-layers has none of its own: an ONNX operator with
 * its attributes already turned to the layout the model runs in (channels last). Its float operands
 * that are not model inputs (a layer scale, a bias added by Add) are its weights, so they train.
 */

type Shape = (number | null)[];
export type OpAttributes = Record<string, number | boolean | string | readonly number[]>;

interface OpKernel {
  run(inputs: tf.Tensor[], a: OpAttributes): tf.Tensor;
  shape(shapes: Shape[], a: OpAttributes): Shape;
}

const same: OpKernel['shape'] = (shapes) => shapes[0]!;
const numbers = (value: OpAttributes[string] | undefined) => (value ?? []) as readonly number[];

/** Numpy's broadcasting of two shapes, a null (the batch) taking the other's size. */
function broadcast(a: Shape, b: Shape): Shape {
  const rank = Math.max(a.length, b.length);
  return Array.from({ length: rank }, (_, i) => {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x === null || y === null) return x === 1 || x === null ? y : x;
    return x === 1 ? y : x;
  });
}

const unary = (run: (x: tf.Tensor, a: OpAttributes) => tf.Tensor): OpKernel => ({ run: ([x], a) => run(x!, a), shape: same });
const binary = (run: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor): OpKernel => ({
  run: ([x, y]) => run(x!, y!),
  shape: ([a, b]) => broadcast(a!, b!),
});

/** The window's output size along one axis, floor or ceil (ONNX's ceil_mode). */
const pooledSize = (size: number, kernel: number, stride: number, pads: number, dilation: number, ceil: boolean) => {
  const span = (size + pads - ((kernel - 1) * dilation + 1)) / stride;
  return (ceil ? Math.ceil(span) : Math.floor(span)) + 1;
};

/** Pooling over H and W of NHWC, with ONNX's explicit pads [top, left, bottom, right]. */
function pool(x: tf.Tensor, a: OpAttributes): tf.Tensor {
  const [kh, kw] = numbers(a.kernel) as [number, number];
  const [sh, sw] = numbers(a.strides) as [number, number];
  const [dh, dw] = numbers(a.dilations) as [number, number];
  const [top, left, bottom, right] = numbers(a.pads) as [number, number, number, number];
  const [, h, w] = x.shape as number[];
  const ceil = a.ceil === true;
  const [oh, ow] = [pooledSize(h!, kh, sh, top + bottom, dh, ceil), pooledSize(w!, kw, sw, left + right, dw, ceil)];
  // Ceil mode's last window may reach past the padding: more padding that no window counts.
  const extraBottom = Math.max(0, (oh - 1) * sh + (kh - 1) * dh + 1 - (h! + top + bottom));
  const extraRight = Math.max(0, (ow - 1) * sw + (kw - 1) * dw + 1 - (w! + left + right));
  const paddings: [number, number][] = [
    [0, 0],
    [top, bottom + extraBottom],
    [left, right + extraRight],
    [0, 0],
  ];
  const window = (input: tf.Tensor4D, type: 'max' | 'avg') => tf.pool(input, [kh, kw], type, 'valid', [dh, dw], [sh, sw]);
  if (a.max === true) return window(tf.pad(x as tf.Tensor4D, paddings, -Infinity), 'max');
  const sums = window(tf.pad(x as tf.Tensor4D, paddings), 'avg');
  // Which cells a window counts: the image's, and the explicit pads' too with count_include_pad.
  const counted = a.countPads === true ? [h! + top + bottom, w! + left + right] : [h!, w!];
  const inner: [number, number][] =
    a.countPads === true
      ? [
          [0, 0],
          [0, extraBottom],
          [0, extraRight],
          [0, 0],
        ]
      : paddings;
  const mask = tf.pad(tf.ones([1, counted[0]!, counted[1]!, 1]) as tf.Tensor4D, inner);
  return tf.div(sums, window(mask, 'avg'));
}

function poolShape(shapes: Shape[], a: OpAttributes): Shape {
  const [n, h, w, c] = shapes[0]!;
  const [kh, kw] = numbers(a.kernel);
  const [sh, sw] = numbers(a.strides);
  const [dh, dw] = numbers(a.dilations);
  const [top, left, bottom, right] = numbers(a.pads);
  const ceil = a.ceil === true;
  return [n!, pooledSize(h!, kh!, sh!, top! + bottom!, dh!, ceil), pooledSize(w!, kw!, sw!, left! + right!, dw!, ceil), c!];
}

const hardSigmoid = (x: tf.Tensor, alpha: number, beta: number) => tf.clipByValue(tf.add(tf.mul(x, alpha), beta), 0, 1);

const KERNELS: Record<string, OpKernel> = {
  identity: unary((x) => tf.clone(x)),
  relu: unary((x) => tf.relu(x)),
  sigmoid: unary((x) => tf.sigmoid(x)),
  tanh: unary((x) => tf.tanh(x)),
  erf: unary((x) => tf.erf(x)),
  sqrt: unary((x) => tf.sqrt(x)),
  exp: unary((x) => tf.exp(x)),
  neg: unary((x) => tf.neg(x)),
  reciprocal: unary((x) => tf.reciprocal(x)),
  clip: unary((x, a) => tf.clipByValue(x, a.min as number, a.max as number)),
  leakyRelu: unary((x, a) => tf.leakyRelu(x, a.alpha as number)),
  hardSigmoid: unary((x, a) => hardSigmoid(x, a.alpha as number, a.beta as number)),
  hardSwish: unary((x) => tf.mul(x, hardSigmoid(x, 1 / 6, 0.5))),
  pow: unary((x, a) => tf.pow(x, a.exponent as number)),
  add: binary((x, y) => tf.add(x, y)),
  sub: binary((x, y) => tf.sub(x, y)),
  mul: binary((x, y) => tf.mul(x, y)),
  div: binary((x, y) => tf.div(x, y)),
  power: binary((x, y) => tf.pow(x, y)),
  matMul: {
    run: ([x, y]) => tf.matMul(x!, y!),
    shape: ([a, b]) => [...broadcast(a!.slice(0, -2), b!.slice(0, -2)), a!.at(-2)!, b!.at(-1)!],
  },
  transpose: {
    run: ([x], a) => tf.transpose(x!, [...numbers(a.perm)]),
    shape: ([s], a) => numbers(a.perm).map((axis) => s![axis]!),
  },
  /** Every axis but the batch to `shape` (the batch's size is the input's). */
  reshape: {
    run: ([x], a) => tf.reshape(x!, [x!.shape[0]!, ...numbers(a.shape)]),
    shape: ([s], a) => [s![0]!, ...numbers(a.shape)],
  },
  pool: { run: ([x], a) => pool(x!, a), shape: poolShape },
  mean: {
    run: ([x], a) => tf.mean(x!, [...numbers(a.axes)], a.keepDims === true),
    shape: ([s], a) => {
      const axes = numbers(a.axes);
      return a.keepDims === true ? s!.map((size, i) => (axes.includes(i) ? 1 : size)) : s!.filter((_, i) => !axes.includes(i));
    },
  },
  inverseStandardDeviation: {
    run: ([x], a) => tf.rsqrt(tf.add(tf.moments(x!, [...numbers(a.axes)], true).variance, a.epsilon as number)),
    shape: (shapes, a) => KERNELS.mean!.shape(shapes, { ...a, keepDims: true }),
  },
  softmax: unary((x, a) => {
    const axis = a.axis as number;
    const shifted = tf.exp(tf.sub(x, tf.max(x, axis, true)));
    return tf.div(shifted, tf.sum(shifted, axis, true));
  }),
  concat: {
    run: (inputs, a) => tf.concat(inputs, a.axis as number),
    shape: (shapes, a) => {
      const axis = a.axis as number;
      return shapes[0]!.map((size, i) => (i === axis ? shapes.reduce((sum, s) => sum + (s[i] ?? 0), 0) : size));
    },
  },
};

export const OP_KERNELS: readonly string[] = Object.keys(KERNELS);

export interface OnnxOpArgs {
  readonly name: string;
  readonly op: string;
  readonly attributes: OpAttributes;
  /** Constant operands held as weights, and where each goes among the operands. */
  readonly constants?: readonly { readonly index: number; readonly shape: readonly number[] }[];
  readonly trainable?: boolean;
}

/** An ONNX operator as a tfjs-layers layer (see the top of this file). Saved and loaded by its class name. */
export class OnnxOp extends layers.Layer {
  static readonly className = 'RxvisionOnnxOp';
  readonly op: string;
  readonly attributes: OpAttributes;
  readonly constants: readonly { readonly index: number; readonly shape: readonly number[] }[];

  constructor(args: OnnxOpArgs) {
    super({ name: args.name, ...(args.trainable !== undefined && { trainable: args.trainable }) });
    if (!KERNELS[args.op]) throw new Error(`RxvisionOnnxOp: no operator ${args.op}`);
    this.op = args.op;
    this.attributes = args.attributes;
    this.constants = args.constants ?? [];
  }

  override build(): void {
    this.constants.forEach(({ shape }, i) => this.addWeight(`constant_${i}`, [...shape], 'float32', initializers.zeros()));
    this.built = true;
  }

  /** The operands in order: the inputs, with each constant in its place. */
  private operands<T>(inputs: T[], constants: T[]): T[] {
    const operands = [...inputs];
    this.constants.forEach(({ index }, i) => operands.splice(index, 0, constants[i]!));
    return operands;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shapes = (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as Shape[];
    return KERNELS[this.op]!.shape(
      this.operands(
        shapes,
        this.constants.map(({ shape }) => [...shape]),
      ),
      this.attributes,
    );
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const operands = this.operands(
        [inputs].flat(),
        this.weights.map((w) => w.read()),
      );
      return KERNELS[this.op]!.run(operands, this.attributes);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      op: this.op,
      attributes: this.attributes as tf.serialization.ConfigDict,
      constants: this.constants.map(({ index, shape }) => ({ index, shape: [...shape] })),
    };
  }
}
tf.serialization.registerClass(OnnxOp);
