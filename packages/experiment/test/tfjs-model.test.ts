import '@tensorflow/tfjs-backend-cpu';
import { access, mkdtemp, mkdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSystemSaver } from '@rxvision/model/node';
import { RUN_FILES } from '@rxvision/run-folder';
import { loadClassifier } from '@rxvision/train/node';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseExperiment, type RunEvent, runExperiment } from '../src/index.js';
import { createTfjsModel, loadTfjsModel } from '../src/tfjs-model.js';
import { writeBandsDataset } from './bands-fixture.js';

let dir: string;

/**
 * A classifier shaped as Teachable Machine exports one: a nested model for the features (here a
 * small convolution, there a truncated MobileNet) and a nested head of two dense layers, the last
 * with a softmax; 4×4 grey images, `classes` classes.
 */
function teachableMachineShaped(classes: number): tfl.Sequential {
  const body = tfl.sequential({
    name: 'sequential_1',
    layers: [
      tfl.layers.conv2d({ inputShape: [4, 4, 1], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'body_conv' }),
      tfl.layers.flatten({ name: 'body_flatten' }),
    ],
  });
  const head = tfl.sequential({
    name: 'sequential_3',
    layers: [
      tfl.layers.dense({ inputShape: [64], units: 6, activation: 'relu', name: 'dense_Dense1' }),
      tfl.layers.dense({ units: classes, activation: 'softmax', name: 'dense_Dense2' }),
    ],
  });
  return tfl.sequential({ layers: [body, head] });
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'rxvision-tfjs-model-'));
  await writeBandsDataset(dir);
  await teachableMachineShaped(3).save(fileSystemSaver(join(dir, 'tm3')));
  await teachableMachineShaped(2).save(fileSystemSaver(join(dir, 'tm2')));
  await mkdir(join(dir, 'page'));
  await writeFile(join(dir, 'page', 'model.json'), '<html>403 Forbidden</html>');
  // 200 MB of nothing, sparse: a damaged or hostile file is not read into memory whole.
  await mkdir(join(dir, 'huge'));
  await writeFile(join(dir, 'huge', 'model.json'), '');
  await truncate(join(dir, 'huge', 'model.json'), 200 << 20);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const fineTune = (model: Record<string, unknown>) =>
  parseExperiment(
    {
      dataset: { type: 'arrow', train: 'train.arrow', test: 'test.arrow' },
      validation: 40,
      batchSize: 20,
      model,
      optimizer: { type: 'adam' },
      parameterGroups: [{ match: '^body', learningRateScale: 0.1 }],
      schedule: [{ epochs: 4, learningRate: 0.02 }],
    },
    'fine-tune',
  );

describe('an experiment that fine-tunes a tfjs-layers model (Teachable Machine shaped)', () => {
  test('its 3-class head is replaced for the two classes, and the run trains', async () => {
    const events = await lastValueFrom(
      runExperiment(fineTune({ type: 'tfjs', file: 'tm3/model.json' }), {
        folder: join(dir, 'run'),
        baseDir: dir,
        source: 'fine-tune',
      }).pipe(toArray()),
    );
    const finish = events.find((e): e is Extract<RunEvent, { type: 'finish' }> => e.type === 'finish')!;
    expect(finish.summary.architecture).toBe('tm3/model.json (tfjs) on 4×4×1 → 2 classes');
    expect(finish.test!.accuracy).toBeGreaterThan(0.9);
    // Its nested models opened out, the run exports: onnxruntime gives the trained model's probabilities.
    const classifier = await loadClassifier(join(dir, 'run', RUN_FILES.model));
    expect(classifier.model.layers.map((layer) => layer.name).slice(1)).toEqual(['body_conv', 'body_flatten', 'dense_Dense1', 'head']);
    const image = tf.randomUniform([1, 4, 4, 1], 0, 1, 'float32', 4);
    const expected = tf.softmax(classifier.model.predict(image) as tf.Tensor).dataSync();
    const session = await InferenceSession.create(await readFile(join(dir, 'run', RUN_FILES.onnxModel)));
    const { probabilities } = await session.run({ images: new Tensor('float32', image.dataSync() as Float32Array, [1, 4, 4, 1]) });
    Array.from(probabilities!.data as Float32Array).forEach((p, i) => expect(p).toBeCloseTo(expected[i]!, 5));
  }, 120_000);

  test('a copy starts from the saved weights; a kept head gives logits whose softmax is the saved model’s output', async () => {
    const saved = await tfl.loadLayersModel(tf.io.fromMemory(await artifactsOf(teachableMachineShaped(2))));
    await saved.save(fileSystemSaver(join(dir, 'kept')));
    const loaded = await loadTfjsModel(join(dir, 'kept'));
    const model = createTfjsModel(loaded, { file: join(dir, 'kept'), inputShape: [4, 4, 1], classes: 2, seed: 1 });
    const images = tf.randomUniform([5, 4, 4, 1], 0, 1, 'float32', 3);
    const logits = model.predict(images) as tf.Tensor;
    const probabilities = saved.predict(images) as tf.Tensor;
    expect(Math.max(...tf.abs(tf.sub(tf.softmax(logits), probabilities)).dataSync())).toBeLessThan(1e-6);
    // Logits, not probabilities: rows do not sum to 1.
    expect(Math.abs(tf.sum(logits, 1).dataSync()[0]! - 1)).toBeGreaterThan(1e-3);
    // A copy: training it leaves the loaded model as it was.
    model.getLayer('dense_Dense2').setWeights(
      model
        .getLayer('dense_Dense2')
        .getWeights()
        .map((w) => tf.zerosLike(w)),
    );
    expect(Math.max(...tf.abs(tf.sub(loaded.predict(images) as tf.Tensor, probabilities)).dataSync())).toBe(0);
  });

  test.each([
    ['page', /^fine-tune: model: .*page\/model\.json: not a tfjs-layers model\.json \(/],
    ['missing', /^fine-tune: model: .*missing\/model\.json: no such file/],
    [
      'huge',
      /^fine-tune: model: .*huge\/model\.json: not a tfjs-layers model\.json \(209715200 bytes, more than a model\.json's 64 MiB\) \(for /,
    ],
  ])('%s is refused in one line, and no run folder is made', async (file, message) => {
    const folder = join(dir, `refused-${file}`);
    await expect(
      lastValueFrom(runExperiment(fineTune({ type: 'tfjs', file }), { folder, baseDir: dir, source: 'fine-tune' })),
    ).rejects.toThrow(message);
    await expect(access(folder)).rejects.toThrow();
  });

  test('a class count that differs is refused where the head is to be kept', async () => {
    await expect(
      lastValueFrom(
        runExperiment(fineTune({ type: 'tfjs', file: 'tm3', replaceHead: false }), {
          folder: join(dir, 'kept-3'),
          baseDir: dir,
          source: 'fine-tune',
        }),
      ),
    ).rejects.toThrow(/tm3: the model has 3 classes, the dataset 2 \(replaceHead is false\)/);
  });
});

async function artifactsOf(model: tfl.LayersModel): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return artifacts!;
}
