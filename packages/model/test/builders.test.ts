import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, test } from 'vitest';
import { checkCnnOptions, checkMlpOptions, checkResNetOptions, createCnn, createMlp, createResNet } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const small = { inputShape: [8, 8, 3] as const, classes: 4 };
const builders = {
  mlp: (seed: number) => createMlp({ ...small, hidden: [16, 8], dropout: 0.1, seed }),
  cnn: (seed: number) => createCnn({ ...small, blocks: [4, 8], convolutionsPerBlock: 2, dropout: 0.1, seed }),
  resnet: (seed: number) => createResNet({ ...small, stages: [4, 8], blocksPerStage: 1, seed }),
};
const weightsOf = (model: LayersModel) => model.getWeights().map((w) => Array.from(w.dataSync()));

describe.each(Object.entries(builders))('%s', (_name, build) => {
  test('takes the images and gives one logit per class', () => {
    const model = build(1);
    expect(model.inputs[0]!.shape).toEqual([null, 8, 8, 3]);
    expect(model.outputs[0]!.shape).toEqual([null, 4]);
    expect(model.layers.at(-1)!.name).toBe('logits');
    expect((model.layers.at(-1)!.getConfig() as { activation: string }).activation).toBe('linear');
    model.dispose();
  });

  test('the same seed gives the same weights, another seed others', () => {
    const [a, b, c] = [build(5), build(5), build(6)];
    expect(weightsOf(b)).toEqual(weightsOf(a));
    expect(weightsOf(c)).not.toEqual(weightsOf(a));
    for (const model of [a, b, c]) model.dispose();
  });

  test('trains: the loss on a fixed batch falls', () => {
    const model = build(3);
    const optimizer = tf.train.adam(0.01);
    const xs = tf.randomUniform([16, 8, 8, 3], 0, 1, 'float32', 9);
    const ys = tf.oneHot(
      tf.tensor1d(
        Array.from({ length: 16 }, (_, i) => i % 4),
        'int32',
      ),
      4,
    );
    const losses: number[] = [];
    for (let step = 0; step < 15; step++) {
      const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor), true)!;
      losses.push(loss.dataSync()[0]!);
      loss.dispose();
    }
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.7);
    for (const t of [xs, ys, model, optimizer]) t.dispose();
  });
});

describe('architectures', () => {
  test('the CNN is blocks of conv → batch norm → ReLU and a pool, then global average pooling', () => {
    const model = createCnn({ ...small, blocks: [4, 8] });
    expect(model.layers.map((layer) => layer.getClassName())).toEqual([
      'Conv2D',
      'BatchNormalization',
      'ReLU',
      'MaxPooling2D',
      'Conv2D',
      'BatchNormalization',
      'ReLU',
      'MaxPooling2D',
      'GlobalAveragePooling2D',
      'Dense',
    ]);
    expect(createCnn({ ...small, blocks: [4], batchNorm: false }).layers.map((layer) => layer.getClassName())).toEqual([
      'Conv2D',
      'ReLU',
      'MaxPooling2D',
      'GlobalAveragePooling2D',
      'Dense',
    ]);
  });

  test('the ResNet adds a 1×1 projection where a stage changes shape, and the identity elsewhere', () => {
    const model = createResNet({ ...small, stages: [4, 8], blocksPerStage: 2 });
    const convolutions = model.layers
      .filter((layer) => layer.getClassName() === 'Conv2D')
      .map((layer) => layer.getConfig() as { kernelSize: number[]; strides: number[] });
    // stem, 2 blocks × 2 in stage 1, then stage 2: 2 × 2 plus one projection
    expect(convolutions).toHaveLength(1 + 4 + 4 + 1);
    expect(convolutions.filter((c) => c.kernelSize[0] === 1)).toEqual([expect.objectContaining({ strides: [2, 2] })]);
    expect(model.layers.filter((layer) => layer.getClassName() === 'Add')).toHaveLength(4);
    expect(model.predict(tf.zeros([2, 8, 8, 3])) as tf.Tensor).toHaveProperty('shape', [2, 4]);
  });

  test('bad options are refused with one line naming the builder and the value', () => {
    expect(() => createMlp({ ...small, hidden: [] })).toThrow('createMlp: hidden must be positive integers, got []');
    expect(() => createCnn({ ...small, classes: 1, blocks: [4] })).toThrow('createCnn: classes must be an integer of at least 2, got 1');
    expect(() => createCnn({ ...small, blocks: [4, 4, 4, 4] })).toThrow(
      'createCnn: 4 blocks halve 8×8 images below one pixel; use at most 3',
    );
    expect(() => createResNet({ ...small, inputShape: [8, 8] as never, stages: [4] })).toThrow(
      'createResNet: inputShape must be [height, width, channels] of positive integers, got [8, 8]',
    );
    expect(() => createResNet({ ...small, stages: [4], dropout: 1 })).toThrow('createResNet: dropout must be in [0, 1), got 1');
    expect(() => createMlp({ ...small, hidden: [4], seed: 1.5 })).toThrow('seed must be an integer, got 1.5');
  });
});

describe("the builders' checks, without building", () => {
  test.each([
    ['mlp', () => createMlp({ ...small, hidden: [16, 8] }), () => checkMlpOptions({ ...small, hidden: [16, 8] })],
    [
      'cnn',
      () => createCnn({ ...small, blocks: [4, 8], convolutionsPerBlock: 2 }),
      () => checkCnnOptions({ ...small, blocks: [4, 8], convolutionsPerBlock: 2 }),
    ],
    [
      'cnn without batch norm',
      () => createCnn({ ...small, blocks: [4, 8], batchNorm: false }),
      () => checkCnnOptions({ ...small, blocks: [4, 8], batchNorm: false }),
    ],
    [
      'resnet',
      () => createResNet({ ...small, stages: [4, 8, 8], blocksPerStage: 2, stemFilters: 6 }),
      () => checkResNetOptions({ ...small, stages: [4, 8, 8], blocksPerStage: 2, stemFilters: 6 }),
    ],
  ])('%s: count the parameters the built model has', (_name, build, check) => {
    const model = build();
    expect(check()).toBe(model.countParams());
    model.dispose();
  });

  test('refuse a model too large to allocate in one line, before a weight is made', () => {
    const before = tf.memory().numBytes;
    const parameters = (32 * 32 * 3 + 1) * 1e9 + (1e9 + 1) * 10; // two dense layers' weights and biases
    expect(() => createMlp({ inputShape: [32, 32, 3], classes: 10, hidden: [1_000_000_000] })).toThrow(
      `createMlp: ${parameters.toLocaleString('en-US')} parameters (${((parameters * 4) / 1e9).toFixed(1)} GB of float32 weights, and as much again to train them); at most 500,000,000`,
    );
    expect(tf.memory().numBytes).toBe(before);
    expect(() => checkCnnOptions({ inputShape: [8, 8, 1], classes: 3, blocks: [8, 8, 8, 8, 8] })).toThrow(
      'createCnn: 5 blocks halve 8×8 images below one pixel; use at most 3',
    );
    expect(() => checkMlpOptions({ inputShape: [8, 8, 1], classes: 1, hidden: [8] })).toThrow(
      'createMlp: classes must be an integer of at least 2, got 1',
    );
  });
});
