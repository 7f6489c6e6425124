import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, test } from 'vitest';
import { batchNormalization } from '../src/batch-normalization.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Deterministic values in [-1, 1), shifted: a batch whose mean is far from 0, as after a convolution. */
function values(count: number, seed: number, shift = 0): Float32Array {
  let state = seed;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1 + shift;
  });
}

interface Outcome {
  readonly output: number[];
  readonly gradients: number[][];
  readonly moving: number[][];
}

/** One training call of `layer` on x, the gradients of Σ output·r for x, γ and β, and the moving statistics after it. */
function trainOnce(layer: tfl.layers.Layer, shape: number[]): Outcome {
  layer.build(shape);
  const [gamma, beta, movingMean, movingVariance] = layer.weights;
  const channels = shape.at(-1)!;
  tf.tidy(() =>
    layer.setWeights([
      tf.tensor(values(channels, 3, 1)),
      tf.tensor(values(channels, 4)),
      tf.tensor(values(channels, 5)),
      tf.abs(tf.tensor(values(channels, 6, 1))),
    ]),
  );
  const x = tf.tidy(() =>
    tf.variable(
      tf.tensor(
        values(
          shape.reduce((a, b) => a * b, 1),
          1,
          2,
        ),
        shape,
      ),
    ),
  );
  const r = tf.tensor(values(x.size, 2), shape);
  const before = tf.memory().numTensors;
  const { value, grads } = tf.variableGrads(
    () => tf.sum(tf.mul(layer.apply(x, { training: true }) as tf.Tensor, r)) as tf.Scalar,
    [x, gamma!.read() as tf.Variable, beta!.read() as tf.Variable],
  );
  const output = Array.from((layer.apply(x, { training: false }) as tf.Tensor).dataSync());
  const outcome = {
    output,
    gradients: [x, gamma!.read(), beta!.read()].map((v) => Array.from(grads[(v as tf.Variable).name]!.dataSync())),
    moving: [movingMean!, movingVariance!].map((w) => Array.from(w.read().dataSync())),
  };
  tf.dispose([value, ...Object.values(grads)]);
  expect(tf.memory().numTensors - before).toBeLessThanOrEqual(1); // the inference output above
  tf.dispose([x, r]);
  for (const weight of layer.weights) weight.dispose();
  return outcome;
}

function expectClose(actual: number[], expected: number[], what: string): void {
  expect(actual.length, what).toBe(expected.length);
  actual.forEach((value, i) =>
    expect(Math.abs(value - expected[i]!), `${what} [${i}]: ${value} against ${expected[i]}`).toBeLessThan(
      1e-4 + 1e-3 * Math.abs(expected[i]!),
    ),
  );
}

describe('batchNormalization (one operation while training)', () => {
  test.each([
    ['NHWC', [4, 5, 5, 3]],
    ['rank 2', [16, 6]],
  ])("%s: output, gradients of x, γ and β, and the moving statistics equal tfjs-layers' own", (_name, shape) => {
    const expected = trainOnce(tfl.layers.batchNormalization({ momentum: 0.9 }), shape);
    const actual = trainOnce(batchNormalization({ momentum: 0.9 }), shape);
    ['x', 'γ', 'β'].forEach((name, i) => expectClose(actual.gradients[i]!, expected.gradients[i]!, `gradient of ${name}`));
    expectClose(actual.moving[0]!, expected.moving[0]!, 'moving mean');
    expectClose(actual.moving[1]!, expected.moving[1]!, 'moving variance');
    expectClose(actual.output, expected.output, 'inference output after the update');
  });

  test("saves as tfjs-layers' BatchNormalization and loads without rxvision", async () => {
    const model = tfl.sequential({ layers: [batchNormalization({ inputShape: [3] })] });
    tf.tidy(() => model.setWeights([tf.tensor([2, 3, 4]), tf.tensor([1, 0, -1]), tf.tensor([0.5, 0, 1]), tf.tensor([4, 1, 9])]));
    const artifacts = await new Promise<tf.io.ModelArtifacts>((resolve) => {
      void model.save(
        tf.io.withSaveHandler(async (saved) => {
          resolve(saved);
          return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
        }),
      );
    });
    expect(JSON.stringify(artifacts.modelTopology)).toContain('"class_name":"BatchNormalization"');
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
    expect(loaded.layers[0]!.constructor).toBe(tfl.layers.batchNormalization({}).constructor);
    const x = tf.tensor([[1, 1, 1]]);
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((model.predict(x) as tf.Tensor).dataSync()));
  });
});
