import '@tensorflow/tfjs-backend-cpu';
import { execFileSync } from 'node:child_process';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batchNormalization, reLU } from '@rxvision/model';
import { onnxModel, type OnnxInitializer, onnxToLayers } from '@rxvision/onnx';
import { RUN_FILES } from '@rxvision/run-folder';
import { loadClassifier } from '@rxvision/train/node';
import * as tf from '@tensorflow/tfjs-core';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { lastValueFrom, toArray } from 'rxjs';
import { writeBandsDataset } from './bands-fixture.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createImportedModel, readImportedGraph } from '../src/imported-model.js';
import { composeExperiment, parseExperiment, type RunEvent, runExperiment } from '../src/index.js';

let dir: string;
/** A "pretrained" ONNX classifier of 4×4 grey images into 10 classes: Conv, Relu, Flatten, Gemm, as torch exports one (BatchNormalization after the Conv with `batchNorm`). */
function pretrained(height = 4, batchNorm = false): Uint8Array {
  const weights = (name: string, dims: number[], seed: number): OnnxInitializer => ({
    name,
    dims,
    values: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(seed * 100 + i) * 0.4),
  });
  return onnxModel({
    nodes: [
      {
        op: 'Conv',
        inputs: ['images', 'body.conv.weight', 'body.conv.bias'],
        outputs: ['c'],
        attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] },
      },
      ...(batchNorm
        ? [
            {
              op: 'BatchNormalization',
              inputs: ['c', 'body.bn.weight', 'body.bn.bias', 'body.bn.running_mean', 'body.bn.running_var'],
              outputs: ['b'],
              attributes: { epsilon: { float: 1e-5 }, momentum: { float: 0.9 } },
            },
          ]
        : []),
      { op: 'Relu', inputs: [batchNorm ? 'b' : 'c'], outputs: ['r'] },
      { op: 'Flatten', inputs: ['r'], outputs: ['f'], attributes: { axis: 1 } },
      { op: 'Gemm', inputs: ['f', 'fc.weight', 'fc.bias'], outputs: ['logits'], attributes: { transB: 1 } },
    ],
    inputs: [{ name: 'images', dims: ['N', 1, height, 4] }],
    outputs: [{ name: 'logits', dims: ['N', 10] }],
    initializers: [
      weights('body.conv.weight', [4, 1, 3, 3], 1),
      weights('body.conv.bias', [4], 2),
      weights('fc.weight', [10, 4 * height * 4], 3),
      weights('fc.bias', [10], 4),
      ...(batchNorm
        ? [
            weights('body.bn.weight', [4], 5),
            weights('body.bn.bias', [4], 6),
            weights('body.bn.running_mean', [4], 7),
            { ...weights('body.bn.running_var', [4], 8), values: Float32Array.of(0.5, 1, 1.5, 2) },
          ]
        : []),
    ],
  });
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'rxvision-imported-'));
  await writeBandsDataset(dir);
  await writeFile(join(dir, 'pretrained.onnx'), pretrained());
  await writeFile(join(dir, 'tall.onnx'), pretrained(6));
  await writeFile(join(dir, 'batch-norm.onnx'), pretrained(4, true));
  await writeFile(join(dir, 'page.onnx'), '<html>403 Forbidden</html>');
  execFileSync('mkfifo', [join(dir, 'fifo.onnx')]);
  await mkdir(join(dir, 'folder.onnx'));
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
      // The body at a tenth of the rate, and frozen for the first epoch while the new head learns.
      parameterGroups: [{ match: '^body', learningRateScale: 0.1, frozenEpochs: 1 }],
      schedule: [{ epochs: 4, learningRate: 0.01 }],
    },
    'fine-tune',
  );

describe('an experiment that fine-tunes an ONNX classifier', () => {
  test('the head is replaced for the two classes, the body keeps its weights, and the run trains, saves and exports', async () => {
    const folder = join(dir, 'run');
    const events = await lastValueFrom(
      runExperiment(fineTune({ type: 'onnx', file: 'pretrained.onnx' }), { folder, baseDir: dir, source: 'fine-tune' }).pipe(toArray()),
    );
    const finish = events.find((e): e is Extract<RunEvent, { type: 'finish' }> => e.type === 'finish')!;
    expect(finish.summary.architecture).toBe('pretrained.onnx (ONNX) on 4×4×1 → 2 classes');
    expect(finish.test!.accuracy).toBeGreaterThan(0.9);
    // Stored with its file made absolute, as the dataset's are.
    expect(JSON.parse(await readFile(join(folder, RUN_FILES.experiment), 'utf8')).model.file).toBe(join(dir, 'pretrained.onnx'));
    const classifier = await loadClassifier(join(folder, RUN_FILES.model));
    expect(classifier.model.layers.map((layer) => layer.name)).toEqual(expect.arrayContaining(['body.conv', 'head']));
    // The exported run gives onnxruntime the trained model's probabilities (the classify page runs it).
    const image = tf.tidy(() => tf.randomUniform([1, 4, 4, 1], 0, 1, 'float32', 4));
    const expected = tf.tidy(() => tf.softmax(classifier.model.predict(image) as tf.Tensor).dataSync());
    const session = await InferenceSession.create(await readFile(join(folder, RUN_FILES.onnxModel)));
    const { probabilities } = await session.run({ images: new Tensor('float32', image.dataSync() as Float32Array, [1, 4, 4, 1]) });
    Array.from(probabilities!.data as Float32Array).forEach((p, i) => expect(p).toBeCloseTo(expected[i]!, 5));
    classifier.model.dispose();
  }, 120_000);

  test('the body starts from the ONNX weights', async () => {
    const imported = onnxToLayers(pretrained());
    const model = createImportedModel(readImportedGraph(join(dir, 'pretrained.onnx')), {
      file: join(dir, 'pretrained.onnx'),
      inputShape: [4, 4, 1],
      classes: 2,
      seed: 1,
    });
    expect(Array.from(model.getLayer('body.conv').getWeights()[0]!.dataSync())).toEqual(
      Array.from(imported.getLayer('body.conv').getWeights()[0]!.dataSync()),
    );
    expect(model.outputs[0]!.shape).toEqual([null, 2]);
  });

  test("batch norms and ReLUs are @rxvision/model's (one native kernel each way on onednn), saved as tfjs-layers', computing alike", () => {
    const plain = onnxToLayers(pretrained(4, true));
    const model = createImportedModel(readImportedGraph(join(dir, 'batch-norm.onnx')), {
      file: join(dir, 'batch-norm.onnx'),
      inputShape: [4, 4, 1],
      classes: 10,
      seed: 1,
    });
    const layer = (m: typeof model, className: string) => m.layers.find((l) => l.getClassName() === className)!;
    expect(layer(model, 'BatchNormalization').constructor).toBe(batchNormalization().constructor);
    expect(layer(model, 'ReLU').constructor).toBe(reLU().constructor);
    expect(layer(plain, 'BatchNormalization').constructor).not.toBe(batchNormalization().constructor);
    const images = tf.randomUniform([3, 4, 4, 1], 0, 1, 'float32', 9);
    for (const training of [false, true]) {
      const [ours, theirs] = [model, plain].map((m) => (m.apply(images, { training }) as tf.Tensor).dataSync());
      ours!.forEach((value, i) => expect(value).toBeCloseTo(theirs![i]!, 5));
    }
    tf.dispose(images);
  });

  test.each([
    ['page.onnx', /^fine-tune: model: .*page\.onnx: not an ONNX model \(/],
    ['tall.onnx', /^fine-tune: model: .*tall\.onnx: the model takes 6×4×1 images, the dataset holds 4×4×1; prepare the images at its size/],
    ['missing.onnx', /^fine-tune: model: .*missing\.onnx: no such file/],
    // A FIFO would block the read forever (nobody writes it); a folder is not a model either.
    ['fifo.onnx', /^fine-tune: model: .*fifo\.onnx: not a regular file/],
    ['folder.onnx', /^fine-tune: model: .*folder\.onnx: not a regular file/],
  ])('%s is refused in one line, and no run folder is made', async (file, message) => {
    const folder = join(dir, `refused-${file}`);
    await expect(
      lastValueFrom(runExperiment(fineTune({ type: 'onnx', file }), { folder, baseDir: dir, source: 'fine-tune' })),
    ).rejects.toThrow(message);
    await expect(access(folder)).rejects.toThrow();
  });

  test('the ONNX file is read once a run: removed once composed, every model is still built from it', async () => {
    const file = join(dir, 'read-once.onnx');
    await writeFile(file, pretrained());
    const composed = await composeExperiment(fineTune({ type: 'onnx', file }), { baseDir: dir, source: 'fine-tune' });
    await rm(file);
    const [first, second] = [composed.createModel(), composed.createModel()];
    expect(Array.from(first.getLayer('body.conv').getWeights()[0]!.dataSync())).toEqual(
      Array.from(second.getLayer('body.conv').getWeights()[0]!.dataSync()),
    );
    first.dispose();
    second.dispose();
    await composed.close();
  });

  test('replaceHead: true gives a new head even for as many classes (a transfer to other classes)', () => {
    const model = createImportedModel(readImportedGraph(join(dir, 'pretrained.onnx')), {
      file: join(dir, 'pretrained.onnx'),
      inputShape: [4, 4, 1],
      classes: 10,
      seed: 1,
      replaceHead: true,
    });
    expect(model.layers.at(-1)!.name).toBe('head');
    const kept = createImportedModel(readImportedGraph(join(dir, 'pretrained.onnx')), {
      file: join(dir, 'pretrained.onnx'),
      inputShape: [4, 4, 1],
      classes: 10,
      seed: 1,
    });
    expect(kept.layers.at(-1)!.name).toBe('fc');
  });

  test('a class count that differs is refused where the head is to be kept', async () => {
    const folder = join(dir, 'kept-head');
    await expect(
      lastValueFrom(
        runExperiment(fineTune({ type: 'onnx', file: 'pretrained.onnx', replaceHead: false }), {
          folder,
          baseDir: dir,
          source: 'fine-tune',
        }),
      ),
    ).rejects.toThrow(/pretrained\.onnx: the model has 10 classes, the dataset 2 \(replaceHead is false\)/);
  });
});
