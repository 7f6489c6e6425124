// The addon's kernels against tfjs's cpu backend over drawn shapes: channels 1–70, images 1–300 px,
// batch 1–33, every stride, padding and dilation the addon accepts. Every operand lies between
// canaries (checked after each call) and half of them in shared memory, as the threaded wasm heap
// is. Plain JavaScript, so that a child process can run it under AddressSanitizer as it is.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

/** Drawn shapes, the same for a seed on every machine (mulberry32). */
export function random(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (low, high) => low + Math.floor(next() * (high - low + 1));
  // Small sizes are where kernels take their odd paths; large ones are drawn now and then.
  const size = (high) => (next() < 0.7 ? int(1, Math.min(high, 20)) : int(1, high));
  return { next, int, size, pick: (items) => items[int(0, items.length - 1)] };
}

const CANARY = -7777.25;
const GUARD = 64;

/** `length` floats between canaries, in shared memory or not; the values drawn in [-1, 1). */
function operand(draw, length, shared) {
  const Buffer = shared ? SharedArrayBuffer : ArrayBuffer;
  const all = new Float32Array(new Buffer(4 * (length + 2 * GUARD))).fill(CANARY);
  const view = all.subarray(GUARD, GUARD + length);
  for (let i = 0; i < length; i++) view[i] = draw.next() * 2 - 1;
  return { all, view };
}

function canariesHold(...operands) {
  return operands.every(({ all }) => {
    for (let i = 0; i < GUARD; i++) if (all[i] !== CANARY || all[all.length - 1 - i] !== CANARY) return false;
    return true;
  });
}

/** The largest difference from the reference over its largest value (at least 1): 0 where equal. */
function error(actual, expected) {
  if (actual.length !== expected.length) return Infinity;
  let scale = 1;
  for (const value of expected) scale = Math.max(scale, Math.abs(value));
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const difference = Math.abs(actual[i] - expected[i]);
    worst = Number.isNaN(difference) ? Infinity : Math.max(worst, difference / scale);
  }
  return worst;
}

const cpu = (run) => tf.tidy(() => run().dataSync());
/** An operand as a cpu tensor; `rounded`: its values rounded to bfloat16, as the addon's bf16 passes read them. */
const tensor = (operand, shape, rounded = false) => tf.tensor(rounded ? toBfloat16(operand.view) : operand.view.slice(), shape, 'float32');

/**
 * `values` rounded to the nearest bfloat16 (ties to even), as oneDNN's float32-to-bf16 reorder rounds:
 * the reference of a bf16 pass is the float32 pass over these, since the products of two bfloat16s
 * are exact in float32 and the sums are float32.
 */
export function toBfloat16(values) {
  const bits = new Uint32Array(Float32Array.from(values).buffer);
  for (let i = 0; i < bits.length; i++) bits[i] = (((bits[i] + 0x7fff + ((bits[i] >>> 16) & 1)) >>> 16) << 16) >>> 0;
  return new Float32Array(bits.buffer);
}

/** Whether a case computes in bf16: a fifth of the convolutions and products where the CPU runs it natively. */
const drawBf16 = (dnnl, draw) => dnnl.bf16 && draw.next() < 0.2;

/**
 * A convolution's shape within `budget` multiply-adds, or pooling's (channels kept) where `pool`.
 * Padding stays below the filter's extent, and a stride and a dilation are not both above 1: tfjs
 * never asks for more, and the addon refuses it.
 */
export function drawConvolution(draw, { pool = false, dilated = true, budget = 3e6 } = {}) {
  for (;;) {
    // Now and then channels the addon runs through oneDNN's blocked layout (≥ 64, multiples of 16).
    const channels = () => (draw.next() < 0.2 ? draw.pick([64, 80]) : draw.size(70));
    const [n, ci] = [draw.pick([1, 1, 2, 3, draw.int(1, 33)]), channels()];
    const co = pool ? ci : channels();
    // Networks use square filters and equal strides (1×1 stride-2 projections, 3×3 and 7×7 stems)
    // most: those are drawn most, each side on its own now and then.
    const kh = draw.pick([1, 1, 2, 3, 3, draw.int(1, 7)]);
    const kw = draw.next() < 0.8 ? kh : draw.int(1, 7);
    const sh = draw.pick([1, 1, 2, 2, 3]);
    const sw = draw.next() < 0.8 ? sh : draw.pick([1, 2, 3]);
    const dilate = dilated && !pool && sh === 1 && sw === 1 && draw.next() < 0.3;
    const [dh, dw] = dilate ? [draw.int(1, 3), draw.int(1, 3)] : [1, 1];
    const [eh, ew] = [(kh - 1) * dh + 1, (kw - 1) * dw + 1];
    const [pt, pl] = [draw.int(0, eh - 1), draw.int(0, ew - 1)];
    const [pb, pr] = draw.next() < 0.5 ? [pt, pl] : [draw.int(0, eh - 1), draw.int(0, ew - 1)];
    const [h, w] = [draw.size(300), draw.size(300)];
    const [ho, wo] = [Math.floor((h + pt + pb - eh) / sh) + 1, Math.floor((w + pl + pr - ew) / sw) + 1];
    if (ho < 1 || wo < 1) continue;
    if (n * ho * wo * co * kh * kw * (pool ? 1 : ci) > budget || n * h * w * ci > budget) continue;
    return { n, h, w, ci, co, kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, ho, wo };
  }
}

/** A convolution's shape with its output size worked out, stride 1 and no padding unless given. */
export function convolution({ sh = 1, sw = 1, pt = 0, pb = 0, pl = 0, pr = 0, ...shape }) {
  const s = { dh: 1, dw: 1, sh, sw, pt, pb, pl, pr, ...shape };
  return { ...s, ho: Math.floor((s.h + pt + pb - s.kh) / sh) + 1, wo: Math.floor((s.w + pl + pr - s.kw) / sw) + 1 };
}

/**
 * Shapes that failed once, run before the drawn ones. oneDNN 2.6.3's 1×1 filter gradient with a
 * stride wrote past its scratchpad where the input channels are not a multiple of 8: wrong
 * filters, a corrupted heap (`malloc(): corrupted top size`) or a hang (rxvision#34). The last two
 * are the shortcuts of the issue's ResNet (stages 8-16-32, 64 px, batch 16).
 */
export const REGRESSIONS = {
  conv2dBackwardFilter: [
    { n: 16, h: 64, w: 64, ci: 3, co: 6, kh: 1, kw: 1, sh: 2, sw: 2 },
    { n: 5, h: 12, w: 20, ci: 6, co: 18, kh: 1, kw: 1, sh: 1, sw: 2 },
    { n: 3, h: 12, w: 60, ci: 1, co: 56, kh: 1, kw: 1, sh: 2, sw: 2 },
    { n: 1, h: 170, w: 4, ci: 6, co: 7, kh: 1, kw: 1, sh: 2, sw: 2 },
    { n: 16, h: 64, w: 64, ci: 8, co: 16, kh: 1, kw: 1, sh: 2, sw: 2 },
    { n: 16, h: 32, w: 32, ci: 16, co: 32, kh: 1, kw: 1, sh: 2, sw: 2 },
  ]
    .map(convolution)
    // Each in float32 and in bf16, whose 1×1 kernel (jit_bf16_1x1) shares the float32 one's fault.
    .flatMap((shape) => [shape, { ...shape, bf16: true }]),
};

/**
 * Shapes of each convolution pass that go through oneDNN's blocked layout (reordered from and to
 * NHWC in the addon's arenas), run before the drawn ones: odd sizes, a stride, a 1×1 projection.
 */
export const BLOCKED = [
  { n: 2, h: 9, w: 7, ci: 64, co: 80, kh: 3, kw: 3, sh: 2, sw: 2 },
  { n: 3, h: 5, w: 11, ci: 96, co: 64, kh: 1, kw: 1, sh: 2, sw: 2 },
  { n: 1, h: 13, w: 13, ci: 80, co: 64, kh: 3, kw: 3, sh: 1, sw: 1 },
].map(convolution);

/** The addon's ConvGeometry for a drawn shape. */
export const geometry = (s) => ({
  ...{ batch: s.n, inHeight: s.h, inWidth: s.w, inChannels: s.ci, outChannels: s.co, filterHeight: s.kh, filterWidth: s.kw },
  ...{ strideHeight: s.sh, strideWidth: s.sw, dilationHeight: s.dh, dilationWidth: s.dw },
  ...{ padTop: s.pt, padBottom: s.pb, padLeft: s.pl, padRight: s.pr, outHeight: s.ho, outWidth: s.wo },
});
const padding = (s) => [
  [0, 0],
  [s.pt, s.pb],
  [s.pl, s.pr],
  [0, 0],
];

/** Each kernel's case: draws its shape, calls the addon, and returns how far it is from cpu. */
export const KERNELS = {
  conv2d(dnnl, draw, shape) {
    const s = shape ?? drawConvolution(draw);
    const shared = draw.next() < 0.5;
    const [x, filter, bias, y] = [
      operand(draw, s.n * s.h * s.w * s.ci, shared),
      operand(draw, s.kh * s.kw * s.ci * s.co, shared),
      operand(draw, s.co, shared),
      operand(draw, s.n * s.ho * s.wo * s.co, shared),
    ];
    const [withBias, relu, bf16] = [draw.next() < 0.5, draw.next() < 0.5, drawBf16(dnnl, draw)];
    dnnl.conv2d({ geometry: geometry(s), x: x.view, filter: filter.view, bias: withBias ? bias.view : null, y: y.view, relu, bf16 });
    const expected = cpu(() => {
      const [input, kernel] = [tensor(x, [s.n, s.h, s.w, s.ci], bf16), tensor(filter, [s.kh, s.kw, s.ci, s.co], bf16)];
      let out = tf.conv2d(input, kernel, [s.sh, s.sw], padding(s), 'NHWC', [s.dh, s.dw]);
      if (withBias) out = tf.add(out, tensor(bias, [s.co]));
      return relu ? tf.relu(out) : out;
    });
    return { shape: { ...s, bias: withBias, relu, bf16 }, error: error(y.view, expected), canaries: canariesHold(x, filter, bias, y) };
  },

  conv2dBackwardData(dnnl, draw, shape) {
    const s = shape ?? drawConvolution(draw, { dilated: false });
    const shared = draw.next() < 0.5;
    const [dy, filter, dx] = [
      operand(draw, s.n * s.ho * s.wo * s.co, shared),
      operand(draw, s.kh * s.kw * s.ci * s.co, shared),
      operand(draw, s.n * s.h * s.w * s.ci, shared),
    ];
    const bf16 = drawBf16(dnnl, draw);
    dnnl.conv2dBackwardData({ geometry: geometry(s), dy: dy.view, filter: filter.view, dx: dx.view, bf16 });
    const expected = cpu(() =>
      tf
        .engine()
        .runKernel(
          'Conv2DBackpropInput',
          { dy: tensor(dy, [s.n, s.ho, s.wo, s.co], bf16), filter: tensor(filter, [s.kh, s.kw, s.ci, s.co], bf16) },
          { strides: [s.sh, s.sw], pad: padding(s), dataFormat: 'NHWC', inputShape: [s.n, s.h, s.w, s.ci] },
        ),
    );
    return { shape: { ...s, bf16 }, error: error(dx.view, expected), canaries: canariesHold(dy, filter, dx) };
  },

  conv2dBackwardFilter(dnnl, draw, shape) {
    const s = shape ?? drawConvolution(draw, { dilated: false });
    const shared = draw.next() < 0.5;
    const [x, dy, dw] = [
      operand(draw, s.n * s.h * s.w * s.ci, shared),
      operand(draw, s.n * s.ho * s.wo * s.co, shared),
      operand(draw, s.kh * s.kw * s.ci * s.co, shared),
    ];
    const bf16 = shape ? Boolean(shape.bf16 && dnnl.bf16) : drawBf16(dnnl, draw);
    dnnl.conv2dBackwardFilter({ geometry: geometry(s), x: x.view, dy: dy.view, dw: dw.view, bf16 });
    const expected = cpu(() =>
      tf
        .engine()
        .runKernel(
          'Conv2DBackpropFilter',
          { x: tensor(x, [s.n, s.h, s.w, s.ci], bf16), dy: tensor(dy, [s.n, s.ho, s.wo, s.co], bf16) },
          { strides: [s.sh, s.sw], pad: padding(s), dataFormat: 'NHWC', filterShape: [s.kh, s.kw, s.ci, s.co] },
        ),
    );
    return { shape: { ...s, bf16 }, error: error(dw.view, expected), canaries: canariesHold(x, dy, dw) };
  },

  pool2d(dnnl, draw) {
    const s = drawConvolution(draw, { pool: true });
    const max = draw.next() < 0.5;
    const [x, y] = [operand(draw, s.n * s.h * s.w * s.ci, false), operand(draw, s.n * s.ho * s.wo * s.ci, draw.next() < 0.5)];
    dnnl.pool2d({ geometry: geometry(s), max, x: x.view, y: y.view });
    const attrs = { filterSize: [s.kh, s.kw], strides: [s.sh, s.sw], pad: padding(s) };
    const expected = cpu(() => tf.engine().runKernel(max ? 'MaxPool' : 'AvgPool', { x: tensor(x, [s.n, s.h, s.w, s.ci]) }, attrs));
    return { shape: { ...s, max }, error: error(y.view, expected), canaries: canariesHold(x, y) };
  },

  /** Max pooling's gradient against cpu's; average pooling's against its definition (the window's pixels inside the image share dy). */
  pool2dBackward(dnnl, draw) {
    const s = drawConvolution(draw, { pool: true });
    const max = draw.next() < 0.5;
    const shared = draw.next() < 0.5;
    const [x, dy, dx] = [
      operand(draw, s.n * s.h * s.w * s.ci, shared),
      operand(draw, s.n * s.ho * s.wo * s.ci, shared),
      operand(draw, s.n * s.h * s.w * s.ci, shared),
    ];
    dnnl.pool2dBackward({ geometry: geometry(s), max, x: max ? x.view : null, dy: dy.view, dx: dx.view });
    const attrs = { filterSize: [s.kh, s.kw], strides: [s.sh, s.sw], pad: padding(s) };
    const expected = max
      ? cpu(() => {
          const input = tensor(x, [s.n, s.h, s.w, s.ci]);
          const output = tf.engine().runKernel('MaxPool', { x: input }, attrs);
          return tf.engine().runKernel('MaxPoolGrad', { dy: tensor(dy, [s.n, s.ho, s.wo, s.ci]), input, output }, attrs);
        })
      : averagePoolGradient(s, dy.view);
    return { shape: { ...s, max }, error: error(dx.view, expected), canaries: canariesHold(x, dy, dx) };
  },

  matMul(dnnl, draw) {
    const [m, k, n] = [draw.size(300), draw.size(300), draw.size(300)];
    const [transposeA, transposeB, withBias, relu] = [draw.next() < 0.5, draw.next() < 0.5, draw.next() < 0.5, draw.next() < 0.5];
    const shared = draw.next() < 0.5;
    const [a, b, bias, y] = [
      operand(draw, m * k, shared),
      operand(draw, k * n, shared),
      operand(draw, n, shared),
      operand(draw, m * n, shared),
    ];
    const shape = { m, k, n, transposeA, transposeB };
    const bf16 = drawBf16(dnnl, draw);
    dnnl.matMul({ shape, a: a.view, b: b.view, bias: withBias ? bias.view : null, y: y.view, relu, bf16 });
    const expected = cpu(() => {
      const [left, right] = [tensor(a, transposeA ? [k, m] : [m, k], bf16), tensor(b, transposeB ? [n, k] : [k, n], bf16)];
      let out = tf.matMul(left, right, transposeA, transposeB);
      if (withBias) out = tf.add(out, tensor(bias, [n]));
      return relu ? tf.relu(out) : out;
    });
    return {
      shape: { m, k, n, transposeA, transposeB, bias: withBias, relu, bf16 },
      error: error(y.view, expected),
      canaries: canariesHold(a, b, bias, y),
    };
  },

  batchNormTraining(dnnl, draw) {
    const { rows, channels, epsilon } = drawRows(draw);
    const shared = draw.next() < 0.5;
    const [x, scale, offset, y, mean, variance] = [rows * channels, channels, channels, rows * channels, channels, channels].map((length) =>
      operand(draw, length, shared),
    );
    const shape = { rows, channels, epsilon };
    const relu = draw.next() < 0.3;
    dnnl.batchNormTraining({
      shape,
      x: x.view,
      scale: scale.view,
      offset: offset.view,
      y: y.view,
      mean: mean.view,
      variance: variance.view,
      relu,
    });
    const moments = columnMoments(x.view, rows, channels);
    const expected = x.view.map((value, i) => {
      const c = i % channels;
      const normalised = ((value - moments.mean[c]) / Math.sqrt(moments.variance[c] + epsilon)) * scale.view[c] + offset.view[c];
      return relu ? Math.max(normalised, 0) : normalised;
    });
    const worst = Math.max(error(y.view, expected), error(mean.view, moments.mean), error(variance.view, moments.variance));
    return { shape: { rows, channels, epsilon, relu }, error: worst, canaries: canariesHold(x, scale, offset, y, mean, variance) };
  },

  /** dx = scale / σ / N · (N·dy − Σdy − x̂·Σ(dy·x̂)), dscale = Σ(dy·x̂), doffset = Σdy. */
  batchNormTrainingGrad(dnnl, draw) {
    const { rows, channels, epsilon } = drawRows(draw);
    const shared = draw.next() < 0.5;
    const [x, dy, scale, dx, dscale, doffset] = [rows * channels, rows * channels, channels, rows * channels, channels, channels].map(
      (length) => operand(draw, length, shared),
    );
    const { mean, variance } = columnMoments(x.view, rows, channels);
    // After a fused ReLU: a forward output (its sign is what counts), 0 in about half the places.
    const rectified = draw.next() < 0.3 ? operand(draw, rows * channels, shared) : undefined;
    rectified?.view.forEach((value, i) => (rectified.view[i] = Math.max(value, 0)));
    dnnl.batchNormTrainingGrad({
      shape: { rows, channels, epsilon },
      ...{ x: x.view, dy: dy.view, scale: scale.view, mean: Float32Array.from(mean), variance: Float32Array.from(variance) },
      ...{ dx: dx.view, dscale: dscale.view, doffset: doffset.view, rectified: rectified?.view ?? null },
    });
    const inverse = variance.map((v) => 1 / Math.sqrt(Math.fround(v) + epsilon));
    const normalised = (i) => (x.view[i] - Math.fround(mean[i % channels])) * inverse[i % channels];
    const g = (i) => (rectified && !(rectified.view[i] > 0) ? 0 : dy.view[i]);
    const [sumDy, sumDyXhat] = [new Float64Array(channels), new Float64Array(channels)];
    for (let i = 0; i < rows * channels; i++) {
      sumDy[i % channels] += g(i);
      sumDyXhat[i % channels] += g(i) * normalised(i);
    }
    const expected = x.view.map((_, i) => {
      const c = i % channels;
      return ((scale.view[c] * inverse[c]) / rows) * (rows * g(i) - sumDy[c] - normalised(i) * sumDyXhat[c]);
    });
    const worst = Math.max(error(dx.view, expected), error(dscale.view, sumDyXhat), error(doffset.view, sumDy));
    const operands = [x, dy, scale, dx, dscale, doffset, ...(rectified ? [rectified] : [])];
    return { shape: { rows, channels, epsilon, relu: Boolean(rectified) }, error: worst, canaries: canariesHold(...operands) };
  },

  /** From given statistics; scale and offset each left out now and then, as tfjs's batchNorm allows. */
  batchNormInference(dnnl, draw) {
    const { rows, channels, epsilon } = drawRows(draw);
    const shared = draw.next() < 0.5;
    const [x, mean, variance, scale, offset, y] = [rows * channels, channels, channels, channels, channels, rows * channels].map((length) =>
      operand(draw, length, shared),
    );
    variance.view.forEach((value, i) => (variance.view[i] = Math.abs(value)));
    const [withScale, withOffset] = [draw.next() < 0.8, draw.next() < 0.8];
    dnnl.batchNormInference({
      shape: { rows, channels, epsilon },
      ...{ x: x.view, mean: mean.view, variance: variance.view, y: y.view },
      ...{ scale: withScale ? scale.view : null, offset: withOffset ? offset.view : null },
    });
    const expected = x.view.map((value, i) => {
      const c = i % channels;
      const normalised = (value - mean.view[c]) / Math.sqrt(variance.view[c] + epsilon);
      return normalised * (withScale ? scale.view[c] : 1) + (withOffset ? offset.view[c] : 0);
    });
    return {
      shape: { rows, channels, epsilon, scale: withScale, offset: withOffset },
      error: error(y.view, expected),
      canaries: canariesHold(x, mean, variance, scale, offset, y),
    };
  },

  activation(dnnl, draw) {
    const { activation, elements, spread } = drawActivation(draw);
    const shared = draw.next() < 0.5;
    const [x, y] = [operand(draw, elements, shared), operand(draw, elements, shared)];
    x.view.forEach((value, i) => (x.view[i] = value * spread));
    dnnl.activation({ activation, elements, x: x.view, y: y.view });
    const expected = cpu(() => ACTIVATIONS[activation](tensor(x, [elements])));
    return { shape: { activation, elements, spread }, error: error(y.view, expected), canaries: canariesHold(x, y) };
  },

  /** dx = dy · f'(x), against the derivatives above. */
  activationBackward(dnnl, draw) {
    const { activation, elements, spread } = drawActivation(draw);
    const shared = draw.next() < 0.5;
    const [x, dy, dx] = [operand(draw, elements, shared), operand(draw, elements, shared), operand(draw, elements, shared)];
    x.view.forEach((value, i) => (x.view[i] = value * spread));
    dnnl.activationBackward({ activation, elements, x: x.view, dy: dy.view, dx: dx.view });
    const phi = cpu(() => tf.mul(0.5, tf.add(1, tf.erf(tf.div(tensor(x, [elements]), Math.SQRT2)))));
    const expected = Float64Array.from(x.view, (value, i) => dy.view[i] * DERIVATIVES[activation](value, phi[i]));
    return { shape: { activation, elements, spread }, error: error(dx.view, expected), canaries: canariesHold(x, dy, dx) };
  },

  /**
   * y = a ∘ b with b broadcast along drawn axes, against cpu's, which it must equal exactly: each
   * element is one IEEE operation. Where the addon has no vectorised kernel it refuses, writing nothing.
   */
  binary(dnnl, draw) {
    const { op, shape, bShape } = drawBinary(draw);
    const shared = draw.next() < 0.5;
    const [a, b, y] = [shape, bShape, shape].map((dims) =>
      operand(
        draw,
        dims.reduce((n, size) => n * size, 1),
        shared,
      ),
    );
    const before = y.view.slice();
    try {
      dnnl.binary({ op, shape, bShape, a: a.view, b: b.view, y: y.view });
    } catch (failure) {
      if (failure.code !== 'RXVISION_DNNL_UNSUPPORTED') throw failure;
      return { shape: { op, shape, bShape, refused: true }, error: error(y.view, before), canaries: canariesHold(a, b, y) };
    }
    const expected = cpu(() => BINARY[op](tensor(a, shape), tensor(b, bShape)));
    const equal = expected.every((value, i) => Object.is(value, y.view[i]) || value === y.view[i]);
    return { shape: { op, shape, bShape }, error: equal ? 0 : Infinity, canaries: canariesHold(a, b, y) };
  },

  sumRows(dnnl, draw) {
    const { rows, channels } = drawRows(draw);
    const scale = draw.pick([1, 0.5, 1 / rows]);
    const [x, y] = [operand(draw, rows * channels, draw.next() < 0.5), operand(draw, channels, false)];
    dnnl.sumRows({ rows, columns: channels, scale, x: x.view, y: y.view });
    const expected = new Float64Array(channels);
    x.view.forEach((value, i) => (expected[i % channels] += value * scale));
    return { shape: { rows, channels, scale }, error: error(y.view, expected), canaries: canariesHold(x, y) };
  },
};

const BINARY = { add: tf.add, sub: tf.sub, mul: tf.mul, div: tf.div };

/** Up to 5 axes of up to 3e6 elements, b broadcast along each with odds 2 in 5 (along all now and then). */
function drawBinary(draw) {
  for (;;) {
    const shape = Array.from({ length: draw.int(1, 5) }, () => draw.size(draw.pick([4, 40, 400])));
    const scalar = draw.next() < 0.1;
    const bShape = shape.map((size) => (scalar || draw.next() < 0.4 ? 1 : size));
    if (shape.reduce((n, size) => n * size, 1) <= 3e6) return { op: draw.pick(Object.keys(BINARY)), shape, bShape };
  }
}

/** tfjs-layers' activations written from tfjs ops on cpu: the reference for the addon's one-kernel ones. */
const ACTIVATIONS = {
  gelu: (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2)))),
  relu: (x) => tf.relu(x),
  sigmoid: (x) => tf.sigmoid(x),
  tanh: (x) => tf.tanh(x),
  swish: (x) => tf.mul(x, tf.sigmoid(x)),
};

/**
 * Their derivatives by the textbook, in float64 from x (GELU's Φ from cpu's erf): the plain-node
 * bundle of tfjs-core registers no gradients.
 */
const DERIVATIVES = {
  gelu: (x, phi) => phi + (x * Math.exp((-x * x) / 2)) / Math.sqrt(2 * Math.PI),
  relu: (x) => (x > 0 ? 1 : 0),
  sigmoid: (x) => sigmoid(x) * (1 - sigmoid(x)),
  tanh: (x) => 1 - Math.tanh(x) ** 2,
  swish: (x) => sigmoid(x) * (1 + x * (1 - sigmoid(x))),
};
const sigmoid = (x) => 1 / (1 + Math.exp(-x));

/**
 * An activation's operand, its values spread to where they saturate: lengths up to 300,000 (the
 * kernel is element by element; larger ones only made the reference slow), odd ones often.
 */
function drawActivation(draw) {
  const elements = draw.pick([draw.int(1, 64), draw.int(1, 5000), draw.int(1, 300_000)]);
  return { activation: draw.pick(Object.keys(ACTIVATIONS)), elements, spread: draw.pick([1, 4, 12]) };
}

/** Each column's mean and biased variance, in float64: tfjs's float32 sums drift over a million rows. */
function columnMoments(x, rows, channels) {
  const [mean, variance] = [new Float64Array(channels), new Float64Array(channels)];
  x.forEach((value, i) => (mean[i % channels] += value / rows));
  x.forEach((value, i) => (variance[i % channels] += (value - mean[i % channels]) ** 2 / rows));
  return { mean, variance };
}

/** rows × channels as batch normalisation sees an NHWC batch: batch · height · width rows. */
function drawRows(draw) {
  for (;;) {
    const [n, h, w, channels] = [draw.int(1, 33), draw.size(300), draw.size(300), draw.size(70)];
    if (n * h * w * channels <= 3e6) return { rows: n * h * w, channels, epsilon: draw.pick([1e-3, 1e-5, 1e-12]) };
  }
}

function averagePoolGradient(s, dy) {
  const dx = new Float64Array(s.n * s.h * s.w * s.ci);
  for (let b = 0; b < s.n; b++)
    for (let oh = 0; oh < s.ho; oh++)
      for (let ow = 0; ow < s.wo; ow++) {
        const [top, left] = [oh * s.sh - s.pt, ow * s.sw - s.pl];
        const rows = [Math.max(0, top), Math.min(s.h, top + s.kh)];
        const columns = [Math.max(0, left), Math.min(s.w, left + s.kw)];
        const inside = (rows[1] - rows[0]) * (columns[1] - columns[0]);
        for (let c = 0; c < s.ci; c++) {
          const share = dy[((b * s.ho + oh) * s.wo + ow) * s.ci + c] / inside;
          for (let i = rows[0]; i < rows[1]; i++)
            for (let j = columns[0]; j < columns[1]; j++) dx[((b * s.h + i) * s.w + j) * s.ci + c] += share;
        }
      }
  return dx;
}

/**
 * Runs the regressions and `count` drawn cases of each kernel from `seed`, and returns those over `tolerance` or with a
 * canary overwritten, each with its shape. `announce` hears of each case before it runs and
 * `report` of each failure as it is found, so a crash or a hang later still leaves them named.
 */
export function fuzz(
  dnnl,
  { seed = 1, count = 40, tolerance = 1e-4, kernels = Object.keys(KERNELS), announce = () => {}, report = () => {} } = {},
) {
  tf.setBackend('cpu');
  const failures = [];
  for (const kernel of kernels) {
    const draw = random([...kernel].reduce((hash, char) => Math.imul(hash, 31) + char.charCodeAt(0), seed));
    const convolutional = kernel.startsWith('conv2d');
    const regressions = [...(REGRESSIONS[kernel] ?? []), ...(convolutional ? BLOCKED : [])];
    for (let i = -regressions.length; i < count; i++) {
      announce(i < 0 ? `${kernel} regression ${regressions.length + i}` : `${kernel} #${i}`);
      const result = KERNELS[kernel](dnnl, draw, regressions[regressions.length + i]);
      if (result.error <= tolerance && result.canaries) continue;
      const failure = { kernel, case: i < 0 ? `regression ${regressions.length + i}` : i, ...result };
      failures.push(failure);
      report(failure);
    }
  }
  return failures;
}
