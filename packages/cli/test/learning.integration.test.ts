import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '@rxvision/backend/node';
import { randomSplit, subset } from '@rxvision/dataset';
import { CIFAR10_SOURCE_VARIABLE, openImageDataset, prepareCifar10 } from '@rxvision/dataset/node';
import { createTutorialModel } from '@rxvision/model';
import { epochBatches } from '@rxvision/stream';
import { fit, type TrainingEnd } from '@rxvision/train';
import * as tf from '@tensorflow/tfjs-core';
import { last, lastValueFrom } from 'rxjs';
import { afterAll, expect, test } from 'vitest';

const source = process.env[CIFAR10_SOURCE_VARIABLE];
if (!source) console.warn(`skipping the learning test on real CIFAR-10: ${CIFAR10_SOURCE_VARIABLE} is not set`);
let dir: string | undefined;
afterAll(() => dir && rm(dir, { recursive: true, force: true }));

test.runIf(source)(
  'the tutorial model learns on a real subset: validation accuracy well above chance',
  async () => {
    await selectBackend('wasm');
    dir = await mkdtemp(join(tmpdir(), 'rxvision-learning-'));
    await prepareCifar10({ source: source!, dataDir: dir });
    const file = await openImageDataset(join(dir, 'train.arrow'));
    const rows = subset(
      file,
      Array.from({ length: 12_800 }, (_, i) => i),
    );
    const [train, validation] = randomSplit(rows, [11_520, 1_280], { seed: 43 });
    const model = createTutorialModel({ seed: 43 });
    const before = tf.memory().numTensors;
    const end = (await lastValueFrom(
      fit(model, {
        schedule: [{ epochs: 2, learningRate: 0.05 }],
        trainBatches: epochBatches(train!, { batchSize: 128, seed: 43 }),
        validationBatches: () => epochBatches(validation!, { batchSize: 640 })(0),
      }).pipe(last()),
    )) as TrainingEnd;
    expect(tf.memory().numTensors).toBe(before);
    const [first, second] = end.history;
    expect(second!.trainLoss).toBeLessThan(first!.trainLoss);
    expect(second!.valAccuracy).toBeGreaterThan(0.2); // chance is 0.1
    model.dispose();
  },
  300_000,
);
