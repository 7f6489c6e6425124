import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { ACTIVATION_KERNELS, activation, reLU } from '../src/activation.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** x from −6 to 6 (GELU's tails and its bend), and a fixed upstream gradient. */
const x = Float32Array.from({ length: 241 }, (_, i) => -6 + i / 20);
const r = Float32Array.from(x, (_, i) => Math.cos(i));

/** The layer's output on x and the gradient of Σ output·r with respect to x. */
function outputAndGradient(layer: tfl.layers.Layer): { y: Float32Array; dx: Float32Array } {
  return tf.tidy(() => {
    const input = tf.tensor1d(x);
    const forward = (v: tf.Tensor) => layer.apply(v) as tf.Tensor;
    const dx = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(forward(v), tf.tensor1d(r))))(input);
    return { y: forward(input).dataSync() as Float32Array, dx: dx.dataSync() as Float32Array };
  });
}

/** What a test kernel needs of the cpu backend: a tensor made from values. */
type Maker = { makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo };

const worst = (a: Float32Array, b: Float32Array) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

describe('activation', () => {
  test("GELU's written-out gradient equals tfjs's chain through erf, and its values tfjs-layers' gelu", () => {
    const ours = outputAndGradient(activation({ activation: 'gelu' as never }));
    const theirs = outputAndGradient(tfl.layers.activation({ activation: 'gelu' as never }));
    expect(worst(ours.y, theirs.y)).toBeLessThan(1e-6);
    expect(worst(ours.dx, theirs.dx)).toBeLessThan(1e-5);
    // Not vacuous: the gradient spans GELU's dip below 0 and its rise above 1.
    expect(Math.min(...ours.dx.map((g, i) => g / r[i]!))).toBeLessThan(-0.1);
    expect(Math.max(...ours.dx.map((g, i) => g / r[i]!))).toBeGreaterThan(1.1);
  });

  test("saves and loads as tfjs-layers' Activation", async () => {
    const model = tfl.sequential({ layers: [activation({ activation: 'gelu' as never, inputShape: [3] })] });
    const json = model.toJSON(null, false) as { config: { layers: { class_name: string; config: { activation: string } }[] } };
    expect(json.config.layers[0]).toMatchObject({ class_name: 'Activation', config: { activation: 'gelu' } });
    const loaded = await tfl.models.modelFromJSON({ modelTopology: json } as never);
    const input = tf.tensor2d([[-1, 0.5, 2]]);
    const [a, b] = [model.predict(input), loaded.predict(input)] as tf.Tensor[];
    expect(Array.from(b!.dataSync())).toEqual(Array.from(a!.dataSync()));
    tf.dispose([input, a!, b!]);
    model.dispose();
    loaded.dispose();
  });

  describe("with the backend's kernels", () => {
    const calls: string[] = [];
    afterEach(() => {
      for (const name of Object.values(ACTIVATION_KERNELS)) tf.unregisterKernel(name, 'cpu');
      calls.length = 0;
    });

    /** Kernels that compute ReLU by hand and record their calls: a backend's own, as onednn registers. */
    function registerRecordingReLU(): void {
      tf.registerKernel({
        kernelName: ACTIVATION_KERNELS.forward,
        backendName: 'cpu',
        kernelFunc: ({ inputs, attrs, backend }) => {
          calls.push(`forward ${String(attrs!.activation)}`);
          const xs = (backend as unknown as { readSync(id: unknown): Float32Array }).readSync((inputs.x as tf.TensorInfo).dataId);
          return (backend as unknown as Maker).makeTensorInfo(
            inputs.x!.shape,
            'float32',
            xs.map((v) => Math.max(0, v)),
          );
        },
      });
      tf.registerKernel({
        kernelName: ACTIVATION_KERNELS.gradient,
        backendName: 'cpu',
        kernelFunc: ({ inputs, attrs, backend }) => {
          calls.push(`gradient ${String(attrs!.activation)}`);
          const read = (t: tf.TensorInfo) => (backend as unknown as { readSync(id: unknown): Float32Array }).readSync(t.dataId);
          const [xs, dy] = [read(inputs.x as tf.TensorInfo), read(inputs.dy as tf.TensorInfo)];
          return (backend as unknown as Maker).makeTensorInfo(
            inputs.x!.shape,
            'float32',
            dy.map((g, i) => (xs[i]! > 0 ? g : 0)),
          );
        },
      });
    }

    test('runs them, one forward and one backward, with the activation named', () => {
      registerRecordingReLU();
      const ours = outputAndGradient(activation({ activation: 'relu' }));
      expect(calls).toEqual(['forward relu', 'gradient relu', 'forward relu']);
      const theirs = outputAndGradient(tfl.layers.activation({ activation: 'relu' }));
      expect(worst(ours.y, theirs.y)).toBe(0);
      expect(worst(ours.dx, theirs.dx)).toBe(0);
    });

    test("the ReLU layer runs them too, saves as tfjs-layers' ReLU, and leaves a capped ReLU to tfjs-layers", async () => {
      registerRecordingReLU();
      const ours = outputAndGradient(reLU());
      expect(calls).toEqual(['forward relu', 'gradient relu', 'forward relu']);
      const theirs = outputAndGradient(tfl.layers.reLU());
      expect([worst(ours.y, theirs.y), worst(ours.dx, theirs.dx)]).toEqual([0, 0]);
      calls.length = 0;
      const capped = outputAndGradient(reLU({ maxValue: 2 }));
      expect(calls).toEqual([]);
      expect(worst(capped.y, outputAndGradient(tfl.layers.reLU({ maxValue: 2 })).y)).toBe(0);
      const model = tfl.sequential({ layers: [reLU({ inputShape: [3] })] });
      const json = model.toJSON(null, false) as { config: { layers: { class_name: string }[] } };
      expect(json.config.layers[0]!.class_name).toBe('ReLU');
      const loaded = await tfl.models.modelFromJSON({ modelTopology: json } as never);
      expect(loaded.layers[0]!.getClassName()).toBe('ReLU');
      model.dispose();
      loaded.dispose();
    });

    test('leaves an activation they do not compute to tfjs-layers', () => {
      tf.registerKernel({ kernelName: ACTIVATION_KERNELS.forward, backendName: 'cpu', kernelFunc: () => expect.fail('called') });
      tf.registerKernel({ kernelName: ACTIVATION_KERNELS.gradient, backendName: 'cpu', kernelFunc: () => expect.fail('called') });
      const ours = outputAndGradient(activation({ activation: 'elu' }));
      const theirs = outputAndGradient(tfl.layers.activation({ activation: 'elu' }));
      expect(worst(ours.y, theirs.y)).toBe(0);
    });
  });
});
