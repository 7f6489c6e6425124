import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { activation, batchNormalization, NATIVE_ACTIVATIONS, reLU } from '@rxvision/model';
import { describe, expect, test } from 'vitest';
import { selectBackend } from '../src/node/index.js';

// Every layer an image classifier uses, forward and backward, on each backend against the cpu
// backend: the output, the input gradient and every weight gradient. WebGPU runs where an adapter
// is found, and always in CI (.ci/run installs lavapipe), where a missing adapter fails it.
const TOLERANCE = { absolute: 1e-4, relative: 2e-3 };

interface Case {
  readonly name: string;
  readonly inputShape: number[];
  readonly layer: () => tfl.layers.Layer;
  /** Run in training mode (batch statistics, dropout). */
  readonly training?: boolean;
}

const conv = (config: Partial<Parameters<typeof tfl.layers.conv2d>[0]>) => () =>
  tfl.layers.conv2d({ filters: 4, kernelSize: 3, ...config });
const CASES: Case[] = [
  { name: 'dense', inputShape: [3, 12], layer: () => tfl.layers.dense({ units: 5 }) },
  { name: 'conv2d 3×3 same', inputShape: [2, 9, 9, 3], layer: conv({ padding: 'same' }) },
  { name: 'conv2d 3×3 valid', inputShape: [2, 9, 9, 3], layer: conv({ padding: 'valid' }) },
  { name: 'conv2d 3×3 stride 2 same', inputShape: [2, 9, 9, 3], layer: conv({ padding: 'same', strides: 2 }) },
  { name: 'conv2d 3×3 stride 2 valid', inputShape: [2, 10, 10, 3], layer: conv({ padding: 'valid', strides: 2 }) },
  { name: 'conv2d 5×3 stride 2×1 same', inputShape: [2, 8, 7, 2], layer: conv({ padding: 'same', kernelSize: [5, 3], strides: [2, 1] }) },
  { name: 'conv2d 1×1', inputShape: [2, 5, 5, 6], layer: conv({ kernelSize: 1 }) },
  // Channels in multiples of 16 take oneDNN's vectorised kernels, fewer its plainer ones: both are covered.
  {
    name: 'conv2d 3×3 stride 2 same 16→32, bias and ReLU fused',
    inputShape: [2, 9, 9, 16],
    layer: conv({ padding: 'same', strides: 2, filters: 32, activation: 'relu' }),
  },
  { name: 'conv2d 3×3 same 32→48, no bias', inputShape: [3, 8, 8, 32], layer: conv({ padding: 'same', filters: 48, useBias: false }) },
  {
    name: 'conv2d 1×1 stride 2 24→48 (a projection)',
    inputShape: [2, 8, 8, 24],
    layer: conv({ kernelSize: 1, strides: 2, filters: 48, useBias: false }),
  },
  { name: 'depthwise 3×3 same', inputShape: [2, 9, 9, 3], layer: () => tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same' }) },
  {
    name: 'depthwise 3×3 stride 2 valid ×2',
    inputShape: [2, 10, 10, 3],
    layer: () => tfl.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, depthMultiplier: 2 }),
  },
  {
    name: 'depthwise 3×3 stride 2 same',
    inputShape: [2, 9, 9, 4],
    layer: () => tfl.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same' }),
  },
  {
    name: 'separable 3×3 same',
    inputShape: [2, 8, 8, 3],
    layer: () => tfl.layers.separableConv2d({ filters: 5, kernelSize: 3, padding: 'same' }),
  },
  { name: 'batch normalisation, training', inputShape: [4, 5, 5, 3], layer: () => tfl.layers.batchNormalization(), training: true },
  { name: 'batch normalisation, inference', inputShape: [4, 5, 5, 3], layer: () => tfl.layers.batchNormalization() },
  { name: 'batch normalisation, inference, 24 channels', inputShape: [3, 4, 5, 24], layer: () => tfl.layers.batchNormalization() },
  { name: 'batch normalisation, inference, 32 channels', inputShape: [2, 3, 3, 32], layer: () => tfl.layers.batchNormalization() },
  // @rxvision/model's: its training step runs the backend's own kernels where it has them (onednn's).
  {
    name: 'batch normalisation (@rxvision/model), training, 3 channels',
    inputShape: [4, 5, 5, 3],
    layer: () => batchNormalization(),
    training: true,
  },
  {
    name: 'batch normalisation (@rxvision/model), training, 32 channels',
    inputShape: [4, 6, 6, 32],
    layer: () => batchNormalization(),
    training: true,
  },
  // Rectified in the batch norm's own kernels where the backend has them (onednn's), by two layers elsewhere.
  ...[5, 32].map((channels) => ({
    name: `batch normalisation (@rxvision/model) fused with the ReLU after it, training, ${channels} channels`,
    inputShape: [4, 6, 6, channels],
    layer: () => tfl.sequential({ layers: [batchNormalization({ inputShape: [6, 6, channels], name: 'bn' }, { fuseReLU: true }), reLU()] }),
    training: true,
  })),
  { name: 'max pooling 2×2', inputShape: [2, 8, 8, 3], layer: () => tfl.layers.maxPooling2d({ poolSize: 2 }) },
  {
    name: 'average pooling 3×3 stride 2 same',
    inputShape: [2, 9, 9, 3],
    layer: () => tfl.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
  },
  { name: 'global average pooling', inputShape: [2, 5, 5, 4], layer: () => tfl.layers.globalAveragePooling2d({}) },
  { name: 'global max pooling', inputShape: [2, 5, 5, 4], layer: () => tfl.layers.globalMaxPooling2d({}) },
  { name: 'dropout (seeded)', inputShape: [3, 20], layer: () => tfl.layers.dropout({ rate: 0.5, seed: 7 }), training: true },
  { name: 'flatten', inputShape: [2, 3, 3, 2], layer: () => tfl.layers.flatten() },
  { name: 'relu', inputShape: [3, 10], layer: () => tfl.layers.activation({ activation: 'relu' }) },
  { name: 'gelu', inputShape: [3, 10], layer: () => tfl.layers.activation({ activation: 'gelu' as never }) },
  { name: 'softmax', inputShape: [3, 10], layer: () => tfl.layers.softmax() },
  // @rxvision/model's: one kernel each way where the backend has them (onednn's).
  ...NATIVE_ACTIVATIONS.map((name) => ({
    name: `${name} (@rxvision/model)`,
    inputShape: [4, 6, 6, 16],
    layer: () => activation({ activation: name as 'relu' }),
  })),
  { name: 'ReLU (@rxvision/model)', inputShape: [4, 6, 6, 16], layer: () => reLU() },
  { name: 'capped ReLU (@rxvision/model: tfjs-layers’ own)', inputShape: [3, 10], layer: () => reLU({ maxValue: 0.5 }) },
  {
    name: 'zero padding (PadV2, its gradient a Slice)',
    inputShape: [2, 5, 6, 3],
    layer: () =>
      tfl.layers.zeroPadding2d({
        padding: [
          [1, 2],
          [3, 0],
        ],
      }),
  },
];

/** Deterministic values in [-1, 1): the same inputs and weights on every backend. */
function values(count: number, seed: number): Float32Array {
  let state = seed >>> 0 || 1;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
}

interface Result {
  readonly output: Float32Array;
  readonly gradients: Record<string, Float32Array>;
}

/** The layer's output and the gradients of Σ output·r with respect to the input and every weight. */
async function run(testCase: Case): Promise<Result> {
  const layer = testCase.layer();
  layer.build(testCase.inputShape);
  // A variance is never negative: the moving one drawn as |value|, so that no case compares NaNs.
  const variance = (i: number) => layer.weights[i]!.originalName.endsWith('moving_variance');
  tf.tidy(() =>
    layer.setWeights(layer.getWeights().map((w, i) => tf.tensor(values(w.size, 100 + i).map(variance(i) ? Math.abs : Number), w.shape))),
  );
  const x = tf.tidy(() => tf.variable(tf.tensor(values(tf.util.sizeFromShape(testCase.inputShape), 1), testCase.inputShape)));
  const names = ['input', ...layer.trainableWeights.map((w) => w.originalName)];
  const tensors = tf.tidy(() => {
    const forward = () => layer.apply(x, { training: testCase.training === true }) as tf.Tensor;
    const output = forward();
    const r = tf.tensor(values(output.size, 2), output.shape);
    const weights = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(forward(), r)) as tf.Scalar, [x, ...weights]);
    return [output, ...[x, ...weights].map((v) => grads[v.name]!)];
  });
  try {
    // Read asynchronously: WebGPU in Node cannot read synchronously.
    const [output, ...gradients] = (await Promise.all(tensors.map((t) => t.data()))) as Float32Array[];
    return { output: output!, gradients: Object.fromEntries(gradients.map((g, i) => [names[i]!, g])) };
  } finally {
    tf.dispose(tensors);
    x.dispose();
    for (const weight of layer.weights) weight.dispose(); // layer.dispose() only works on layers used in a model
  }
}

function expectClose(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  let worst = { excess: 0, index: -1 };
  expected.forEach((e, i) => {
    const excess = Number.isNaN(actual[i]! - e)
      ? Infinity
      : Math.abs(actual[i]! - e) - (TOLERANCE.absolute + TOLERANCE.relative * Math.abs(e));
    if (excess > worst.excess) worst = { excess, index: i };
  });
  if (worst.index >= 0) expect.fail(`${what}: element ${worst.index} is ${actual[worst.index]}, cpu says ${expected[worst.index]}`);
}

async function resultsOn(backend: 'cpu' | 'wasm' | 'onednn' | 'onednn-cpu' | 'onnxruntime' | 'webgpu'): Promise<Map<string, Result>> {
  await selectBackend(backend);
  const results = new Map<string, Result>();
  for (const testCase of CASES) {
    const before = tf.memory().numTensors;
    results.set(testCase.name, await run(testCase));
    expect(tf.memory().numTensors, `${testCase.name} leaks tensors on ${backend}`).toBe(before);
  }
  return results;
}

const webgpu = await selectBackend('webgpu').then(
  () => ({ ok: true as const }),
  (error: Error) => ({ ok: false as const, reason: error.message }),
);
if (!webgpu.ok && !process.env.CI) console.warn(`skipping WebGPU in the layer matrix: ${webgpu.reason}`);
const backends = ['wasm', 'onednn', 'onednn-cpu', 'onnxruntime', ...(webgpu.ok || process.env.CI ? ['webgpu' as const] : [])] as const;

describe.each(backends)('every layer trains on %s as on cpu', (backend) => {
  test('forward outputs and gradients match within tolerance, and nothing leaks', async () => {
    const expected = await resultsOn('cpu');
    const actual = await resultsOn(backend);
    for (const testCase of CASES) {
      const want = expected.get(testCase.name)!;
      const got = actual.get(testCase.name)!;
      expectClose(got.output, want.output, `${testCase.name}: output`);
      expect(Object.keys(got.gradients), testCase.name).toEqual(Object.keys(want.gradients));
      for (const [name, gradient] of Object.entries(want.gradients))
        expectClose(got.gradients[name]!, gradient, `${testCase.name}: gradient of ${name}`);
    }
  }, 300_000);
});
