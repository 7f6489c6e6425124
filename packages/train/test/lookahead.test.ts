import '@tensorflow/tfjs-backend-cpu';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCnn, createMlp } from '@rxvision/model';
import { epochBatches, evaluationBatches } from '@rxvision/stream';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { lastValueFrom, Subject, tap, toArray } from 'rxjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { fit, type FitOptions } from '../src/index.js';
import { loadCheckpoint, saveCheckpoint } from '../src/node/index.js';
import { figures, toyDataset } from './fixtures.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const values = (m: LayersModel) => m.weights.map((w) => Array.from(w.read().dataSync()));

describe('lookahead', () => {
  test('on a fixed batch: each update moves the weights to the average, 1 − decay of the way from where the step took them', async () => {
    const batch = toyDataset(16, 3);
    const run = async (lookahead: FitOptions['lookahead']) => {
      const m = createMlp({ inputShape: [4, 4, 3], classes: 3, hidden: [5], seed: 2 });
      const before = values(m);
      await lastValueFrom(
        fit(m, {
          schedule: [{ epochs: 1, learningRate: 0.1 }],
          trainBatches: epochBatches(batch, { batchSize: 16 }),
          ...(lookahead && { lookahead }),
        }),
      );
      const after = values(m);
      m.dispose();
      return { before, after };
    };
    const plain = await run(undefined);
    // One step, then the update with decay 0.25 (power 0: constant): average = 0.25·w₀ + 0.75·w₁.
    const blended = await run({ every: 1, decay: 0.25, power: 0 });
    blended.after.forEach((weight, i) =>
      weight.forEach((v, j) => expect(v).toBeCloseTo(0.25 * plain.before[i]![j]! + 0.75 * plain.after[i]![j]!, 6)),
    );
    // With decay 0 the average is the weights: the run is the plain one.
    expect((await run({ every: 1, decay: 0, power: 0 })).after).toEqual(plain.after);
  });

  test('stopped mid-epoch and resumed from a checkpoint on disk: the same events and weights as an uninterrupted run (batch-norm statistics averaged too)', async () => {
    const options: FitOptions = {
      schedule: { type: 'linear', epochs: 3, from: 0.1, to: 0.01 },
      optimizer: { type: 'sgd', momentum: 0.9, nesterov: true },
      trainBatches: epochBatches(toyDataset(160, 1), { batchSize: 32, seed: 43 }),
      validationBatches: evaluationBatches(toyDataset(60, 2), { batchSize: 30 }),
      lookahead: { every: 3, decay: 0.8, power: 1 },
    };
    const model = (seed: number) => createCnn({ inputShape: [4, 4, 3], classes: 3, blocks: [4], seed });
    const straight = model(5);
    const expected = await lastValueFrom(fit(straight, options).pipe(toArray()));

    const folder = join(await mkdtemp(join(tmpdir(), 'rxvision-lookahead-')), 'checkpoint');
    const first = model(5);
    const stop = new Subject<void>();
    const before = await lastValueFrom(
      fit(first, { ...options, stop, checkpoint: (state) => saveCheckpoint(folder, state, first) }).pipe(
        tap((event) => event.type === 'batch' && event.epoch === 2 && event.step === 2 && stop.next()),
        toArray(),
      ),
    );
    expect(before.at(-1)).toMatchObject({ type: 'stopped', position: { epoch: 2, step: 2 } });
    first.dispose();
    const resumed = model(99);
    const { resume } = await loadCheckpoint(folder, resumed);
    expect(resume.lookahead).toHaveLength(resumed.weights.length);
    const after = await lastValueFrom(fit(resumed, { ...options, resume }).pipe(toArray()));
    tf.dispose([...resume.optimizerWeights!.map((w) => w.tensor), ...resume.lookahead!]);
    expect(figures([...before.slice(0, -1), ...after])).toEqual(figures(expected));
    expect(values(resumed)).toEqual(values(straight));
    // Without the average in the checkpoint the resumed run would differ: the test can tell.
    const forgetful = model(99);
    const { resume: withoutAverage } = await loadCheckpoint(folder, forgetful);
    const other = await lastValueFrom(fit(forgetful, { ...options, resume: { ...withoutAverage, lookahead: undefined } }).pipe(toArray()));
    expect(values(forgetful)).not.toEqual(values(straight));
    expect(other.at(-1)).toMatchObject({ type: 'end' });
    tf.dispose([...withoutAverage.optimizerWeights!.map((w) => w.tensor), ...withoutAverage.lookahead!]);
    [straight, resumed, forgetful].forEach((m) => m.dispose());
  });

  test('bad settings are refused in one line', async () => {
    const m = createMlp({ inputShape: [4, 4, 3], classes: 3, hidden: [5], seed: 2 });
    const run = (lookahead: FitOptions['lookahead']) =>
      lastValueFrom(
        fit(m, {
          schedule: [{ epochs: 1, learningRate: 0.1 }],
          trainBatches: epochBatches(toyDataset(16, 3), { batchSize: 16 }),
          lookahead,
        }),
      );
    await expect(run({ every: 0 })).rejects.toThrow('lookahead: every must be a whole number ≥ 1, got 0');
    await expect(run({ decay: 1.5 })).rejects.toThrow('lookahead: decay must be in [0, 1], got 1.5');
    m.dispose();
  });
});
