import '@tensorflow/tfjs-backend-cpu';
import { createCnn, createMlp } from '@rxvision/model';
import { epochBatches } from '@rxvision/stream';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { lastValueFrom } from 'rxjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { fit, type OptimizerSpec, type ParameterGroup } from '../src/index.js';
import { toyDataset } from './fixtures.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// One fixed batch of 16 images, one step an epoch: each weight's move is read off exactly.
const batch = toyDataset(16, 3);
const model = () => createMlp({ inputShape: [4, 4, 3], classes: 3, hidden: [5], seed: 7 });
/** Weights by layer index and kind (`0/kernel`, `1/bias` = logits' bias): each model's layers are named anew. */
const weights = (m: LayersModel) =>
  Object.fromEntries(
    m.trainableWeights.map((w, i) => [
      `${Math.floor(i / 2)}/${w.name.includes('/kernel') ? 'kernel' : 'bias'}`,
      w.read().dataSync().slice() as Float32Array,
    ]),
  );

/** Each weight's move over `epochs` steps of SGD on the fixed batch, by weight name. */
async function moves(
  optimizer: OptimizerSpec,
  parameterGroups: ParameterGroup[] | undefined,
  epochs = 3,
  learningRate = 0.1,
): Promise<Record<string, Float32Array>> {
  const m = model();
  const before = weights(m);
  await lastValueFrom(
    fit(m, {
      schedule: [{ epochs, learningRate }],
      optimizer,
      ...(parameterGroups && { parameterGroups }),
      trainBatches: epochBatches(batch, { batchSize: 16 }),
    }),
  );
  const after = weights(m);
  m.dispose();
  return Object.fromEntries(Object.entries(after).map(([name, values]) => [name, values.map((v, i) => v - before[name]![i]!)]));
}

const ratio = (a: Float32Array, b: Float32Array) => a.map((v, i) => (b[i] === 0 ? Number.NaN : v / b[i]!)).filter((v) => !Number.isNaN(v));

describe('parameter groups', () => {
  test('a learning-rate scale is the learning rate times it, step after step, Nesterov momentum and decay included', async () => {
    const sgd: OptimizerSpec = { type: 'sgd', momentum: 0.85, nesterov: true, weightDecay: 0.01 };
    // Every weight scaled by 4 follows the path of a 4 times larger rate (the momentum buffer is linear in what it is fed).
    const scaled = await moves(sgd, [{ match: '.', learningRateScale: 4, weightDecay: 0.01 / 4 }], 3, 0.1);
    const faster = await moves({ ...sgd, weightDecay: 0.01 / 4 }, undefined, 3, 0.4);
    for (const name of Object.keys(faster)) scaled[name]!.forEach((d, i) => expect(d, `${name}[${i}]`).toBeCloseTo(faster[name]![i]!, 6));
    // One step with the biases alone scaled: they move 4 times as far, the kernels as without.
    const plain = await moves(sgd, undefined, 1);
    const biases = await moves(sgd, [{ match: '/bias$', learningRateScale: 4 }], 1);
    for (const name of Object.keys(plain)) {
      if (name.endsWith('/bias')) for (const r of ratio(biases[name]!, plain[name]!)) expect(r, name).toBeCloseTo(4, 4);
      else expect(biases[name]).toEqual(plain[name]);
    }
  });

  test("a group's weight decay replaces the optimizer's for its weights only (one step, worked out)", async () => {
    const none = await moves({ type: 'sgd' }, undefined, 1);
    const decayed = await moves({ type: 'sgd' }, [{ match: '/kernel$', weightDecay: 0.5 }], 1);
    const m = model();
    const start = weights(m);
    m.dispose();
    for (const name of Object.keys(none)) {
      // One plain SGD step: Δ = −rate·(g + decay·w), so the difference is −0.1·0.5·w for kernels, 0 for biases.
      const expected = name.endsWith('/kernel') ? start[name]!.map((w) => -0.1 * 0.5 * w) : new Float32Array(start[name]!.length);
      decayed[name]!.forEach((d, i) => expect(d - none[name]![i]!, `${name}[${i}]`).toBeCloseTo(expected[i]!, 6));
    }
  });

  test('a group trained for one epoch keeps its weights from then on; the others go on', async () => {
    const one = await moves({ type: 'sgd', momentum: 0.9 }, [{ match: '^logits/', epochs: 1 }], 1);
    const three = await moves({ type: 'sgd', momentum: 0.9 }, [{ match: '^logits/', epochs: 1 }], 3);
    expect(three['1/kernel']).toEqual(one['1/kernel']);
    expect(three['1/bias']).toEqual(one['1/bias']);
    expect(three['0/kernel']).not.toEqual(one['0/kernel']);
  });

  test("a group that stops first in the optimizer's list (the first layer, with momentum) keeps its weights, and the others keep their own momentum", async () => {
    // tfjs's optimizers hold momentum by a variable's place in the list: leaving the first layer out
    // would hand every later variable its neighbour's buffer (it threw a broadcast error mid-run).
    const sgd: OptimizerSpec = { type: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 0.01 };
    const one = await moves(sgd, [{ match: '^dense_', epochs: 1 }], 1);
    const three = await moves(sgd, [{ match: '^dense_', epochs: 1 }], 3);
    expect(three['0/kernel']).toEqual(one['0/kernel']);
    expect(three['0/bias']).toEqual(one['0/bias']);
    expect(three['1/kernel']).not.toEqual(one['1/kernel']);
  });

  test.each(['adam', 'adamw'] as const)(
    '%s with a learning-rate scale moves those weights as that much lower a rate would, decay included; the others as without',
    async (type) => {
      const adam: OptimizerSpec = { type, weightDecay: 0.02 };
      // Every weight at a quarter of 0.4 follows the path of a rate of 0.1, step after step.
      const scaled = await moves(adam, [{ match: '.', learningRateScale: 0.25 }], 3, 0.4);
      const slower = await moves(adam, undefined, 3, 0.1);
      for (const name of Object.keys(slower)) scaled[name]!.forEach((d, i) => expect(d, `${name}[${i}]`).toBeCloseTo(slower[name]![i]!, 6));
      // One step with the biases alone scaled: the kernels take the unscaled step, to the bit.
      const biases = await moves(adam, [{ match: '/bias$', learningRateScale: 0.25 }], 1, 0.4);
      const [plain, slowerStep] = [await moves(adam, undefined, 1, 0.4), await moves(adam, undefined, 1, 0.1)];
      for (const name of Object.keys(plain)) {
        if (name.endsWith('/kernel')) expect(biases[name]).toEqual(plain[name]);
        else biases[name]!.forEach((d, i) => expect(d, `${name}[${i}]`).toBeCloseTo(slowerStep[name]![i]!, 6));
      }
    },
  );

  test('a group frozen for its first epochs keeps its weights until then and trains after; the others train throughout', async () => {
    const sgd: OptimizerSpec = { type: 'adam' };
    const body = [{ match: '^dense_', frozenEpochs: 2 }];
    const [two, three, plainOne] = [await moves(sgd, body, 2), await moves(sgd, body, 3), await moves(sgd, undefined, 1)];
    expect([...two['0/kernel']!, ...two['0/bias']!].every((d) => d === 0)).toBe(true);
    expect(three['0/kernel']!.some((d) => d !== 0)).toBe(true);
    expect(two['1/kernel']!.some((d) => d !== 0)).toBe(true);
    expect(plainOne['0/kernel']!.some((d) => d !== 0)).toBe(true);
  });

  test('batch norms whose weights are frozen normalise with their running statistics, leave them as they are, and train once thawed', async () => {
    const m = createCnn({ inputShape: [4, 4, 3], classes: 3, blocks: [4], batchNorm: true, seed: 3 });
    const norm = m.layers.find((layer) => layer.getClassName() === 'BatchNormalization')!;
    const statistics = () => norm.getWeights().map((w) => Array.from(w.dataSync()));
    const start = statistics();
    const run = (epochs: number) =>
      lastValueFrom(
        fit(m, {
          schedule: [{ epochs, learningRate: 0.05 }],
          optimizer: { type: 'adam' },
          parameterGroups: [{ match: `^${norm.name}/`, frozenEpochs: 1 }],
          trainBatches: epochBatches(batch, { batchSize: 16 }),
        }),
      );
    await run(1);
    expect(statistics()).toEqual(start); // gamma, beta, moving mean and variance: all as they were
    await run(2); // a new fit: epoch 1 frozen again, epoch 2 trains
    const [gamma, , movingMean] = statistics();
    expect(gamma).not.toEqual(start[0]);
    expect(movingMean).not.toEqual(start[2]);
    m.dispose();
  });

  test('a group that matches nothing and a bad pattern are refused in one line', async () => {
    const run = (optimizer: OptimizerSpec, groups: ParameterGroup[]) => moves(optimizer, groups, 1);
    await expect(run({ type: 'sgd' }, [{ match: '/gamma$', learningRateScale: 2 }])).rejects.toThrow(
      /^parameter group "\/gamma\$" matches no trainable weight of mlp \(dense_Dense\d+\/kernel, /,
    );
    await expect(run({ type: 'sgd' }, [{ match: '(', weightDecay: 1 }])).rejects.toThrow('parameter group "(": not a regular expression');
  });
});
