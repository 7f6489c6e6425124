import '@tensorflow/tfjs-backend-cpu';
import { mkdtemp, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMlp } from '@rxvision/model';
import { epochBatches, evaluationBatches } from '@rxvision/stream';
import * as tf from '@tensorflow/tfjs-core';
import type { Sequential } from '@tensorflow/tfjs-layers';
import { lastValueFrom, Subject, tap, toArray } from 'rxjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { fit, type FitOptions, parseSchedule } from '../src/index.js';
import { CHECKPOINT_FORMAT, CheckpointError, hasCheckpoint, loadCheckpoint, saveCheckpoint } from '../src/node/index.js';
import { figures, toyDataset } from './fixtures.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const options: FitOptions = {
  schedule: parseSchedule('2@0.1,1@0.02'),
  optimizer: { type: 'sgd', momentum: 0.9 },
  trainBatches: epochBatches(toyDataset(160, 1), { batchSize: 32, seed: 43 }),
  validationBatches: evaluationBatches(toyDataset(60, 2), { batchSize: 30 }),
  keepBest: true,
};
const model = (seed: number) => createMlp({ inputShape: [4, 4, 3], classes: 3, hidden: [8], seed });
/** The same MLP with its first kernel frozen and its bias not, as airbench freezes its whitening: `model.weights` then lists that kernel last. */
const withFrozenKernel = (seed: number) => {
  const net = model(seed) as Sequential;
  net.build(net.inputs[0]!.shape); // built later, on first use, it would set every weight trainable again
  net.layers.find((layer) => layer.getClassName() === 'Dense')!.trainableWeights[0]!.trainable = false;
  return net;
};
describe('checkpoints on disk (@rxvision/train/node)', () => {
  test.each([
    ['', model],
    [', also with a frozen weight (a saved model.json lists it elsewhere)', withFrozenKernel],
  ])(
    'stopped mid-epoch and resumed from the files into a new model: the same events and weights as an uninterrupted run%s',
    async (_, model) => {
      const straight = model(5);
      const expected = await lastValueFrom(fit(straight, options).pipe(toArray()));

      const folder = join(await mkdtemp(join(tmpdir(), 'rxvision-checkpoint-')), 'checkpoint');
      const first = model(5);
      const stop = new Subject<void>();
      const before = await lastValueFrom(
        fit(first, {
          ...options,
          stop,
          checkpoint: (state) => saveCheckpoint(folder, state, first, { meta: { experiment: 'mine' } }),
        }).pipe(
          tap((event) => event.type === 'batch' && event.epoch === 2 && event.step === 3 && stop.next()),
          toArray(),
        ),
      );
      expect(before.at(-1)).toMatchObject({ type: 'stopped', position: { epoch: 2, step: 3 } });
      first.dispose();

      const resumed = model(99); // other weights: the checkpoint's replace them
      const { meta, format, resume } = await loadCheckpoint(folder, resumed);
      expect([meta, format, resume.best?.epoch]).toEqual([{ experiment: 'mine' }, CHECKPOINT_FORMAT, 1]);
      const after = await lastValueFrom(fit(resumed, { ...options, resume }).pipe(toArray()));
      tf.dispose([...resume.optimizerWeights!.map((w) => w.tensor), ...resume.best!.weights]);
      expect(figures([...before.slice(0, -1), ...after])).toEqual(figures(expected));
      expect(resumed.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(straight.getWeights().map((w) => Array.from(w.dataSync())));
      [straight, resumed].forEach((m) => m.dispose());
    },
  );

  test('a crash between the two renames leaves checkpoint.old, which is read; what cannot be read is one line naming the file', async () => {
    const folder = join(await mkdtemp(join(tmpdir(), 'rxvision-checkpoint-')), 'checkpoint');
    const net = model(1);
    await lastValueFrom(
      fit(net, { ...options, schedule: parseSchedule('1@0.1'), checkpoint: (state) => saveCheckpoint(folder, state, net) }),
    );
    await rename(folder, `${folder}.old`);
    expect(await hasCheckpoint(folder)).toBe(true);
    await expect(loadCheckpoint(folder, model(2))).resolves.toMatchObject({ resume: { position: { epoch: 2, step: 0 } } });

    await expect(loadCheckpoint(folder, createMlp({ inputShape: [4, 4, 3], classes: 3, hidden: [16], seed: 1 }))).rejects.toThrow(
      /^.+checkpoint\.old: the checkpoint is from a different model \(weights /,
    );
    const file = join(`${folder}.old`, 'checkpoint.json');
    await writeFile(file, JSON.stringify({ ...JSON.parse(await readFile(file, 'utf8')), format: CHECKPOINT_FORMAT + 1 }));
    await expect(loadCheckpoint(folder, model(2))).rejects.toThrow(
      new CheckpointError(
        `${file}: written in checkpoint format ${CHECKPOINT_FORMAT + 1}, newer than this rxvision reads (${CHECKPOINT_FORMAT}); upgrade rxvision`,
      ),
    );
    await expect(loadCheckpoint(join(folder, 'nowhere'), model(2))).rejects.toThrow(
      `${folder}: no checkpoint to resume from (expected ${join(folder, 'nowhere', 'checkpoint.json')})`,
    );
    net.dispose();
  });
});
