import '@tensorflow/tfjs-backend-cpu';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTutorialModel } from '../src/index.js';
import { fileSystemLoader, fileSystemSaver } from '../src/node/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('createTutorialModel', () => {
  test('is the tutorial’s 3072 → 1650 → 512 → 138 → 10 network with ReLU everywhere by default', () => {
    const model = createTutorialModel();
    expect(model.inputs[0]!.shape).toEqual([null, 32, 32, 3]);
    expect(model.outputs[0]!.shape).toEqual([null, 10]);
    const kernels = model.layers.slice(1).map((layer) => layer.getWeights()[0]!.shape);
    expect(kernels).toEqual([
      [3072, 1650],
      [1650, 512],
      [512, 138],
      [138, 10],
    ]);
    expect(model.layers.slice(1).map((layer) => (layer.getConfig() as { activation: string }).activation)).toEqual([
      'relu',
      'relu',
      'relu',
      'relu',
    ]);
    expect(model.countParams()).toBe(3072 * 1650 + 1650 + 1650 * 512 + 512 + 512 * 138 + 138 + 138 * 10 + 10);
    expect((createTutorialModel({ outputRelu: false }).layers[4]!.getConfig() as { activation: string }).activation).toBe('linear');
    model.dispose();
  });

  test('initialises weights and biases uniformly within ±1/√fan_in, reproducibly from the seed', () => {
    const a = createTutorialModel({ seed: 7 });
    const b = createTutorialModel({ seed: 7 });
    const c = createTutorialModel({ seed: 8 });
    [3072, 1650, 512, 138].forEach((fanIn, i) => {
      const [kernel, bias] = a.layers[i + 1]!.getWeights();
      for (const values of [kernel!.dataSync(), bias!.dataSync()]) {
        const bound = 1 / Math.sqrt(fanIn);
        const max = Array.from(values).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        expect(max).toBeLessThanOrEqual(bound);
        expect(max).toBeGreaterThan(0.9 * bound); // spread over the range, not clustered at 0
      }
    });
    const weights = (m: tf.Tensor[]) => m.map((t) => Array.from(t.dataSync().slice(0, 50)));
    expect(weights(a.getWeights())).toEqual(weights(b.getWeights()));
    expect(weights(a.getWeights())).not.toEqual(weights(c.getWeights()));
    [a, b, c].forEach((m) => m.dispose());
  });
});

describe('file-system save and load (no tfjs-node)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rxvision-model-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('tf.loadLayersModel reads back the same weights and predictions', async () => {
    const model = createTutorialModel({ seed: 3 });
    await model.save(fileSystemSaver(join(dir, 'm')));
    expect((await readdir(join(dir, 'm'))).sort()).toEqual(['model.json', 'weights.bin']);
    const loaded = await loadLayersModel(fileSystemLoader(join(dir, 'm')));
    const input = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 1);
    const expected = (model.predict(input) as tf.Tensor).dataSync();
    const actual = (loaded.predict(input) as tf.Tensor).dataSync();
    expect(Array.from(actual)).toEqual(Array.from(expected));
    tf.dispose([input]);
    model.dispose();
    loaded.dispose();
  });

  test('loading a folder without a model says so', async () => {
    await expect(loadLayersModel(fileSystemLoader(join(dir, 'nothing')))).rejects.toThrow(/not a saved model \(no model\.json\)/);
  });
});
