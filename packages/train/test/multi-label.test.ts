import '@tensorflow/tfjs-backend-cpu';
import { createRandom, ImageDataset } from '@rxvision/dataset';
import { meanAveragePrecision } from '@rxvision/metrics';
import { createMlp } from '@rxvision/model';
import { epochBatches, multiHotTargets } from '@rxvision/stream';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, Subject, tap, toArray } from 'rxjs';
import { beforeAll, expect, test } from 'vitest';
import { evaluate, fit, type FitOptions, parseSchedule, sigmoidCrossEntropy, type TrainingEvent } from '../src/index.js';
import { loadCheckpoint, saveCheckpoint } from '../src/node/index.js';
import { figures } from './fixtures.js';

beforeAll(async () => void (await tf.setBackend('cpu')));

/**
 * Multi-label toy images, 4×4 RGB: each of red, green and blue is present or not (a fair coin each),
 * and a present colour brightens its channel, with noise. The dataset's one label is the first
 * colour present; `labelSets` has them all.
 */
function multiLabelToy(rows: number, seed: number) {
  const random = createRandom(seed);
  const pixels = new Uint8Array(rows * 48);
  const labelSets = Array.from({ length: rows }, () => [0, 1, 2].filter(() => random.nextInt(2) === 1));
  labelSets.forEach((present, r) => {
    for (let p = 0; p < 16; p++)
      for (let c = 0; c < 3; c++) pixels[r * 48 + p * 3 + c] = (present.includes(c) ? 60 : 0) + random.nextInt(160);
  });
  const labels = Uint8Array.from(labelSets, (present) => present[0] ?? 0);
  const dataset = ImageDataset.fromArrays({ classes: ['red', 'green', 'blue'], shape: [4, 4, 3], pixels, labels }, 'colours');
  return { dataset, transforms: [multiHotTargets({ classes: 3, labelsOf: (row) => labelSets[row]! })] };
}

const train = multiLabelToy(300, 1);
const validation = multiLabelToy(120, 2);
const validationBatches = () => epochBatches(validation.dataset, { batchSize: 40, transforms: validation.transforms })(0);
const metrics = { mAP: meanAveragePrecision() };
const options: FitOptions = {
  schedule: parseSchedule('6@0.2'),
  trainBatches: epochBatches(train.dataset, { batchSize: 20, seed: 43, transforms: train.transforms }),
  validationBatches,
  loss: sigmoidCrossEntropy(),
  validationLoss: sigmoidCrossEntropy(),
  metrics,
};
const network = () => createMlp({ inputShape: [4, 4, 3], classes: 3, hidden: [16], seed: 4 });

test('multi-label: sigmoid cross-entropy on multi-hot targets learns every colour an image shows, by mean average precision', async () => {
  const model = network();
  const before = await lastValueFrom(evaluate(model, validationBatches(), metrics, sigmoidCrossEntropy()));
  const events = await lastValueFrom(fit(model, options).pipe(toArray()));
  const history = (events.at(-1) as Extract<TrainingEvent, { type: 'end' }>).history;
  const last = history.at(-1)!;
  expect(before.metrics.mAP).toBeLessThan(0.8); // the untrained network's
  expect(last.metrics!.mAP).toBeGreaterThan(0.95);
  expect(last.valLoss).toBeLessThan(0.6 * before.loss);
  model.dispose();
}, 60_000);

test('multi-label: stopped mid-epoch and resumed from the checkpoint files, every event and the final weights to the bit', async () => {
  const folder = await mkdtemp(join(tmpdir(), 'rxvision-multi-label-'));
  try {
    const straight = network();
    const expected = await lastValueFrom(fit(straight, options).pipe(toArray()));
    const [first, stop] = [network(), new Subject<void>()];
    let steps = 0;
    const before = await lastValueFrom(
      fit(first, { ...options, stop, checkpoint: (state) => saveCheckpoint(folder, state, first) }).pipe(
        tap((event) => event.type === 'batch' && ++steps === 20 && stop.next()),
        toArray(),
      ),
    );
    expect(before.at(-1)).toMatchObject({ type: 'stopped', position: { epoch: 2, step: 5 } });
    const second = network();
    const { resume } = await loadCheckpoint(folder, second);
    const after = await lastValueFrom(fit(second, { ...options, resume }).pipe(toArray()));
    expect(figures([...before, ...after].filter((event) => event.type !== 'stopped'))).toEqual(figures(expected));
    const weightsOf = (m: typeof second) => m.getWeights().map((w) => Array.from(w.dataSync()));
    expect(weightsOf(second)).toEqual(weightsOf(straight));
    [straight, first, second].forEach((m) => m.dispose());
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}, 60_000);
