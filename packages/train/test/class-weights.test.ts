import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { balancedClassWeights, softmaxCrossEntropy } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const logits = [
  [2, -1, 0.5],
  [0.1, 0.2, 0.3],
  [-1, 3, 0],
  [1, 1, -2],
];
const labels = [0, 2, 1, 2];

/** PyTorch's CrossEntropyLoss(weight=w) written out in float64: Σ w[y]·(logsumexp(z) − z[y]) / Σ w[y]. */
function reference(weights: number[]): number {
  let total = 0;
  let weightSum = 0;
  logits.forEach((z, i) => {
    const logSumExp = Math.log(z.reduce((s, v) => s + Math.exp(v), 0));
    total += weights[labels[i]!]! * (logSumExp - z[labels[i]!]!);
    weightSum += weights[labels[i]!]!;
  });
  return total / weightSum;
}

const lossOf = (classWeights?: number[]) =>
  softmaxCrossEntropy(classWeights && { classWeights })(tf.oneHot(labels, 3), tf.tensor2d(logits)).dataSync()[0]!;

describe('class weights in the loss', () => {
  test("each sample counts as its class's weight: PyTorch's weighted mean", () => {
    expect(lossOf([0.5, 3, 1])).toBeCloseTo(reference([0.5, 3, 1]), 6);
    expect(lossOf([0.5, 3, 1])).not.toBeCloseTo(lossOf(), 2);
    // Equal weights, whatever their size, are the plain mean.
    expect(lossOf([2, 2, 2])).toBeCloseTo(lossOf(), 6);
  });

  test("'balanced' from the counts, as scikit-learn's compute_class_weight: samples / (classes × count)", () => {
    expect(balancedClassWeights([80, 15, 5])).toEqual([100 / 240, 100 / 45, 100 / 15]);
    expect(balancedClassWeights([3, 0])).toEqual([0.5, 0]);
  });

  test('building the loss makes no tensor (it is built before a backend is chosen, by rxvision check and train)', () => {
    const before = tf.memory().numTensors;
    const loss = softmaxCrossEntropy({ classWeights: [1, 2, 3] });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(loss(tf.oneHot(labels, 3), tf.tensor2d(logits)));
  });

  test('a weight list that does not fit is one line', () => {
    expect(() => softmaxCrossEntropy({ classWeights: [1, -1] })).toThrow('classWeights must be one finite weight ≥ 0 per class');
    expect(() => softmaxCrossEntropy({ classWeights: [0, 0] })).toThrow('not all 0');
    expect(() => softmaxCrossEntropy({ classWeights: [1, 1] })(tf.oneHot(labels, 3), tf.tensor2d(logits))).toThrow(
      'classWeights has 2 weights for 3 classes',
    );
  });
});
