import type { ConvGeometry } from '@rxvision/dnnl-linux-x64';
import { ACTIVATION_KERNELS as MODEL_ACTIVATION_KERNELS, BATCH_NORM_KERNELS as MODEL_BATCH_NORM_KERNELS } from '@rxvision/model';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { kernelPatches } from '../src/index.js';
import { ACTIVATION_KERNELS, BATCH_NORM_KERNELS, loadOneDnn, ONEDNN_PACKAGE, selectBackend, UNSUPPORTED } from '../src/node/index.js';

// The onednn backend: wasm's kernels with oneDNN's for matrix products, convolutions, pooling,
// batch normalisation and leading-axes sums. Its numbers against cpu are the layer matrix's
// (layer-gradients.test.ts); here, what it reports, what it replaced, and what it refuses. CI
// builds the addon (.ci/run installs libdnnl-dev), so there a missing addon fails; elsewhere it is
// named on stderr and these tests do not run.
const native = await loadOneDnn();
if ('problem' in native && !process.env.CI) console.warn(`skipping the onednn backend's tests: ${native.problem}`);
const run = 'dnnl' in native || Boolean(process.env.CI);

describe.runIf(run)('the onednn backend', () => {
  test('is built and loads (CI installs oneDNN)', () => {
    expect('problem' in native ? native.problem : undefined).toBeUndefined();
  });

  test('reports oneDNN, its package and its threads, and replaced the kernels it names', async () => {
    const report = await selectBackend('onednn', { threads: 2 });
    expect(report).toMatchObject({ backend: 'onednn', package: ONEDNN_PACKAGE, threads: 2, gpu: false });
    expect(report.summary).toMatch(
      /^backend onednn \(oneDNN \d+\.\d+\.\d+ from @rxvision\/dnnl-linux-x64 for matrix products, convolutions, batch normalisation and activations/,
    );
    const replaced = kernelPatches('onednn')
      .filter((patch) => patch.by === 'onednn')
      .map((patch) => patch.kernel);
    expect(replaced.sort()).toEqual(
      [
        'Add',
        'AvgPool',
        'BatchMatMul',
        'Conv2D',
        'Conv2DBackpropFilter',
        'Conv2DBackpropInput',
        'FusedBatchNorm',
        'FusedConv2D',
        'MaxPool',
        'MaxPoolGrad',
        'Multiply',
        'RealDiv',
        'Sub',
        BATCH_NORM_KERNELS.training,
        BATCH_NORM_KERNELS.gradient,
        ACTIVATION_KERNELS.forward,
        ACTIVATION_KERNELS.gradient,
        '_FusedMatMul',
      ].sort(),
    );
    // Selecting it again patches nothing twice.
    await selectBackend('onednn', { threads: 2 });
    expect(kernelPatches('onednn').filter((patch) => patch.by === 'onednn')).toHaveLength(replaced.length);
  });

  test('implements the batch-norm and activation kernels under the names @rxvision/model asks for', () => {
    expect(BATCH_NORM_KERNELS).toEqual(MODEL_BATCH_NORM_KERNELS);
    expect(ACTIVATION_KERNELS).toEqual(MODEL_ACTIVATION_KERNELS);
  });

  test('a dilated convolution (forward only: tfjs has no gradient for it) matches cpu', async () => {
    const x = tf.tidy(() => tf.randomUniform([2, 11, 11, 16], -1, 1, 'float32', 3));
    const filter = tf.tidy(() => tf.randomUniform([3, 3, 16, 8], -1, 1, 'float32', 4));
    const values = [await x.data(), await filter.data()] as const;
    tf.dispose([x, filter]);
    const convolve = () =>
      tf.tidy(() =>
        Array.from(
          tf.conv2d(tf.tensor4d(values[0], [2, 11, 11, 16]), tf.tensor4d(values[1], [3, 3, 16, 8]), 1, 'same', 'NHWC', 2).dataSync(),
        ),
      );
    await selectBackend('cpu');
    const expected = convolve();
    await selectBackend('onednn', { threads: 2 });
    const actual = convolve();
    expect(actual).toHaveLength(expected.length);
    actual.forEach((value, i) => expect(value).toBeCloseTo(expected[i]!, 4));
  });

  /** `compute` on cpu, then on onednn: both results, as plain arrays. */
  async function onBoth(compute: () => tf.Tensor): Promise<[number[], number[]]> {
    await selectBackend('cpu');
    const expected = tf.tidy(() => Array.from(compute().dataSync()));
    await selectBackend('onednn', { threads: 2 });
    return [expected, tf.tidy(() => Array.from(compute().dataSync()))];
  }

  test("a strided 1×1 convolution's filter gradient matches cpu (oneDNN 2.6.3's own kernel wrote past its scratchpad there)", async () => {
    const x = Float32Array.from({ length: 16 * 64 * 64 * 3 }, (_, i) => Math.sin(i));
    const dy = Float32Array.from({ length: 16 * 32 * 32 * 6 }, (_, i) => Math.cos(i));
    const filter = Float32Array.from({ length: 3 * 6 }, (_, i) => Math.sin(i + 7));
    const loss = (f: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(tf.tensor4d(x, [16, 64, 64, 3]), f as tf.Tensor4D, 2, 'same'), tf.tensor4d(dy, [16, 32, 32, 6])));
    const gradient = () => tf.grad(loss)(tf.tensor4d(filter, [1, 1, 3, 6]));
    const [expected, actual] = await onBoth(gradient);
    actual.forEach((value, i) => expect(value).toBeCloseTo(expected[i]!, 2));
  });

  test('padding beyond the filter: the addon refuses it, the kernel it replaced answers, and nothing is left over', async () => {
    if (!('dnnl' in native)) throw new Error(native.problem);
    const refused = () =>
      native.dnnl.conv2d({
        geometry: geometryOf({ padding: 2, out: 6 }),
        x: new Float32Array(9),
        filter: new Float32Array(4),
        bias: null,
        y: new Float32Array(36),
        relu: false,
      });
    expect(refused).toThrow(
      expect.objectContaining({ code: UNSUPPORTED, message: "rxvision-dnnl: padding outside [0, the filter's extent)" }),
    );
    const x = Float32Array.from({ length: 2 * 5 * 5 * 3 }, (_, i) => Math.sin(i));
    const filter = Float32Array.from({ length: 2 * 2 * 3 * 4 }, (_, i) => Math.cos(i));
    const convolve = () =>
      tf.conv2d(tf.tensor4d(x, [2, 5, 5, 3]), tf.tensor4d(filter, [2, 2, 3, 4]), 1, [
        [0, 0],
        [3, 2],
        [2, 3],
        [0, 0],
      ]);
    const [expected, actual] = await onBoth(convolve);
    const before = tf.memory().numTensors;
    const bytes = tf.memory().numBytes;
    expect(actual).toHaveLength(2 * 9 * 9 * 4);
    actual.forEach((value, i) => expect(value).toBeCloseTo(expected[i]!, 4));
    tf.tidy(() => void convolve().dataSync());
    expect([tf.memory().numTensors, tf.memory().numBytes]).toEqual([before, bytes]);
    expect((tf.engine().backend as unknown as { numDataIds(): number }).numDataIds()).toBe(tf.memory().numTensors);
  });

  test('sums over the leading axes match float64 sums, and the same again on every run', async () => {
    await selectBackend('onednn', { threads: 2 });
    const rows = 3001;
    const data = Float32Array.from({ length: rows * 7 }, (_, i) => Math.sin(i) * 1000);
    const expected = Array.from({ length: 7 }, (_, c) => {
      let sum = 0;
      for (let r = 0; r < rows; r++) sum += data[r * 7 + c]!;
      return Math.fround(sum / rows);
    });
    const mean = () => tf.tidy(() => Array.from(tf.mean(tf.tensor2d(data, [rows, 7]), 0).dataSync()));
    expect(mean()).toEqual(expected);
    expect(mean()).toEqual(mean());
  });

  test('the addon refuses bad operands in one line, naming them', () => {
    if (!('dnnl' in native)) throw new Error(native.problem);
    const { dnnl } = native;
    const call =
      (x: Float32Array, geometry: ConvGeometry = geometryOf({ padding: 0, out: 2 })) =>
      () =>
        dnnl.conv2d({ geometry, x, filter: new Float32Array(4), bias: null, y: new Float32Array(4), relu: false });
    expect(call(new Float32Array(2))).toThrow(/^rxvision-dnnl: conv2d\.x holds 2 floats, 9 needed$/);
    const { padTop, ...withoutPadTop } = geometryOf({ padding: 0, out: 2 });
    expect(padTop).toBe(0);
    expect(call(new Float32Array(9), withoutPadTop as ConvGeometry)).toThrow(/^rxvision-dnnl: conv2d\.geometry\.padTop must be a number$/);
    expect(() => (dnnl.conv2d as (call: unknown) => void)(42)).toThrow(/^rxvision-dnnl: conv2d must be an object of named fields$/);
    const shape = { m: 2, k: 0, n: 2, transposeA: false, transposeB: false };
    const [a, b, y] = [new Float32Array(4), new Float32Array(4), new Float32Array(4)];
    expect(() => dnnl.matMul({ shape, a, b, bias: null, y, relu: false })).toThrow(/^rxvision-dnnl: matMul's sizes must be positive$/);
  });
});

/** A 1×3×3×1 image under a 2×2 filter to one channel, padded by `padding` on every side. */
function geometryOf({ padding, out }: { padding: number; out: number }): ConvGeometry {
  const [padTop, padBottom, padLeft, padRight] = [padding, padding, padding, padding];
  const sizes = { batch: 1, inHeight: 3, inWidth: 3, inChannels: 1, outChannels: 1, filterHeight: 2, filterWidth: 2 };
  const steps = { strideHeight: 1, strideWidth: 1, dilationHeight: 1, dilationWidth: 1 };
  return { ...sizes, ...steps, padTop, padBottom, padLeft, padRight, outHeight: out, outWidth: out };
}
