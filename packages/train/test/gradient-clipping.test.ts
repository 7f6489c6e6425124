import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { TrainingOptimizer } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** One SGD step at rate 1 from zero weights: the weights become minus the gradients as applied. */
function step(spec: ConstructorParameters<typeof TrainingOptimizer>[0], gradients: Record<string, number[]>, frozen?: string) {
  const variables = Object.entries(gradients).map(([name, values]) =>
    tf.variable(tf.zeros([values.length]), true, `clip_${name}_${Math.random()}`),
  );
  const optimizer = new TrainingOptimizer(spec, 1);
  if (frozen) optimizer.setGroups(new Map([[variables[Object.keys(gradients).indexOf(frozen)]!.name, { match: frozen, frozenEpochs: 1 }]]));
  optimizer.applyGradients(variables.map((v, i) => ({ name: v.name, tensor: tf.tensor1d(Object.values(gradients)[i]!) })));
  const applied = variables.map((v) => Array.from(tf.neg(v).dataSync()));
  variables.forEach((v) => v.dispose());
  return applied;
}

// PyTorch's arithmetic (torch.nn.utils.clip_grad_norm_, clip_grad_value_), written out: the norm
// over every gradient together; the scale max / (norm + 1e-6), applied where it is below 1.
describe('gradient clipping', () => {
  test('by global norm: [3, 4] and [12] have norm 13; at most 6.5 scales both by 6.5 / (13 + 1e-6)', () => {
    const scale = 6.5 / (13 + 1e-6);
    const [a, b] = step({ type: 'sgd', maxGradientNorm: 6.5 }, { a: [3, 4], b: [12] });
    a!.forEach((v, i) => expect(v).toBeCloseTo([3, 4][i]! * scale, 6));
    expect(b![0]).toBeCloseTo(12 * scale, 5);
  });

  test('a norm already below the most is left as it is; by value, each element is clamped', () => {
    expect(step({ type: 'sgd', maxGradientNorm: 14 }, { a: [3, 4], b: [12] })).toEqual([[3, 4], [12]]);
    expect(step({ type: 'sgd', maxGradientValue: 2.5 }, { a: [3, -4], b: [1] })).toEqual([[2.5, -2.5], [1]]);
  });

  test("a frozen weight's gradient does not count toward the norm (PyTorch clips the parameters it trains)", () => {
    // Frozen b: the norm is 5's, under 6.5: a is stepped unclipped, b not at all.
    expect(step({ type: 'sgd', maxGradientNorm: 6.5 }, { a: [3, 4], b: [12] }, 'b')).toEqual([[3, 4], [-0]]);
  });

  test('with Adam too: its first moment holds the clipped gradient; a limit that is not positive is one line', async () => {
    const weights = tf.variable(tf.zeros([2]), true, `clip_adam_${Math.random()}`);
    const optimizer = new TrainingOptimizer({ type: 'adam', maxGradientValue: 1e-3 }, 0.1);
    optimizer.applyGradients([{ name: weights.name, tensor: tf.tensor1d([5, -5]) }]);
    const state = await optimizer.getWeights();
    // (1 − β1) times the gradient clamped to ±1e-3, not times 5.
    const moment = state.find(({ name }) => name.endsWith('/m'))!;
    Array.from(moment.tensor.dataSync()).forEach((v, i) => expect(v).toBeCloseTo([1e-4, -1e-4][i]!, 9));
    expect(() => new TrainingOptimizer({ type: 'sgd', maxGradientNorm: 0 }, 0.1)).toThrow(
      'optimizer sgd: maxGradientNorm must be > 0, got 0',
    );
  });
});
