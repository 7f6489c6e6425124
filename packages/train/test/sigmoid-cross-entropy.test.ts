import '@tensorflow/tfjs-backend-cpu';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { sigmoidCrossEntropy } from '../src/index.js';

// PyTorch 1.13's BCEWithLogitsLoss, plain and with pos_weight, on fixed logits and multi-hot
// targets, written by tools/torch-reference/multi_label.py.
const reference = JSON.parse(readFileSync(new URL('./fixtures/sigmoid-cross-entropy.json', import.meta.url), 'utf8')) as {
  cases: { classes: number; scores: number[]; targets: number[]; positiveWeights: number[]; loss: number; weightedLoss: number }[];
};

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const tensors = ({ classes, scores, targets }: (typeof reference.cases)[number]) =>
  [tf.tensor2d(targets, [targets.length / classes, classes]), tf.tensor2d(scores, [scores.length / classes, classes])] as const;

describe('sigmoid cross-entropy', () => {
  test.each(reference.cases.map((c, i) => [i, c] as const))("gives PyTorch's loss, plain and with positive weights, case %i", (_, c) => {
    const [targets, logits] = tensors(c);
    expect(sigmoidCrossEntropy()(targets, logits).dataSync()[0]).toBeCloseTo(c.loss, 6);
    expect(sigmoidCrossEntropy({ positiveWeights: c.positiveWeights })(targets, logits).dataSync()[0]).toBeCloseTo(c.weightedLoss, 6);
    tf.dispose([targets, logits]);
  });

  test('its gradient is (σ(x) − z) / (samples × classes), and it stays finite for large logits', () => {
    const [targets, logits] = tensors(reference.cases[2]!);
    const gradient = tf.grad((x: tf.Tensor) => sigmoidCrossEntropy()(targets, x))(logits);
    const expected = tf.div(tf.sub(tf.sigmoid(logits), targets), logits.size);
    expect(tf.max(tf.abs(tf.sub(gradient, expected))).dataSync()[0]).toBeLessThan(1e-7);
    const huge = sigmoidCrossEntropy()(tf.tensor2d([[1, 0]]), tf.tensor2d([[-200, 200]])).dataSync()[0]!;
    expect(huge).toBeCloseTo(200, 3); // each term 200: no overflow to Infinity or NaN
    tf.dispose([targets, logits, gradient, expected]);
  });

  test('weights that do not fit are one line', () => {
    expect(() => sigmoidCrossEntropy({ positiveWeights: [1, -1] })).toThrow('positiveWeights must be one finite weight ≥ 0 per class');
    const [targets, logits] = tensors(reference.cases[0]!);
    expect(() => sigmoidCrossEntropy({ positiveWeights: [1, 1] })(targets, logits)).toThrow('positiveWeights has 2 weights for 5 classes');
    tf.dispose([targets, logits]);
  });
});
