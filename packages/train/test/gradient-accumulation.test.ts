import '@tensorflow/tfjs-backend-cpu';
import { createMlp } from '@rxvision/model';
import { epochBatches } from '@rxvision/stream';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { lastValueFrom, Subject, tap, toArray } from 'rxjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { fit, type FitOptions, parseSchedule, type ResumeFrom, type TrainingEvent } from '../src/index.js';
import { figures, toyDataset } from './fixtures.js';

beforeAll(async () => void (await tf.setBackend('cpu')));

// 40 rows: batches of 8 in groups of 4 are one group of 32 and one cut short at 8, as batches of
// 32 are one of 32 and one of 8.
const train = toyDataset(40, 1);
const model = () => createMlp({ inputShape: [4, 4, 3], classes: 3, hidden: [16], seed: 5 });
const weightsOf = (m: LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
const base = (batchSize: number): FitOptions => ({
  schedule: parseSchedule('3@0.1'),
  optimizer: { type: 'sgd', momentum: 0.9, maxGradientNorm: 0.5 },
  trainBatches: epochBatches(train, { batchSize, seed: 43 }),
});

describe('gradient accumulation', () => {
  test('batches of 8 in groups of 4 train as batches of 32, the short group at the end included', async () => {
    const [large, accumulated, plain] = [model(), model(), model()];
    await lastValueFrom(fit(large, base(32)));
    const events = await lastValueFrom(fit(accumulated, { ...base(8), accumulateBatches: 4 }).pipe(toArray()));
    await lastValueFrom(fit(plain, base(8)));
    // Every batch is still reported, with its own loss.
    expect(events.filter((event) => event.type === 'batch')).toHaveLength(15);
    const [want, got, without] = [weightsOf(large), weightsOf(accumulated), weightsOf(plain)];
    want.flat().forEach((value, i) => expect(got.flat()[i]).toBeCloseTo(value, 5));
    // Not vacuous: batches of 8 stepped one by one end elsewhere.
    expect(Math.max(...want.flat().map((value, i) => Math.abs(value - without.flat()[i]!)))).toBeGreaterThan(1e-3);
    [large, accumulated, plain].forEach((m) => m.dispose());
  });

  test('a stop waits for the group to end, and the resumed run is the uninterrupted one to the bit', async () => {
    const options = { ...base(8), accumulateBatches: 4 };
    const straight = model();
    const expected = await lastValueFrom(fit(straight, options).pipe(toArray()));
    const first = model();
    const stop = new Subject<void>();
    let saved: ResumeFrom | undefined;
    let steps = 0;
    const before = await lastValueFrom(
      fit(first, {
        ...options,
        stop,
        checkpoint: async (state) => {
          if (state.reason !== 'stop') return;
          const optimizerWeights = (await state.optimizer.getWeights()).map(({ name, tensor }) => ({ name, tensor }));
          saved = { position: state.position, history: state.history, optimizerWeights };
        },
      }).pipe(
        tap((event) => event.type === 'batch' && ++steps === 7 && stop.next()), // epoch 2, batch 2
        toArray(),
      ),
    );
    expect(saved!.position).toMatchObject({ epoch: 2, step: 4 });
    const second = model();
    second.setWeights(first.getWeights());
    const after = await lastValueFrom(fit(second, { ...options, resume: saved }).pipe(toArray()));
    const uninterrupted = (events: TrainingEvent[]) => events.filter((event) => event.type !== 'stopped');
    expect(figures(uninterrupted([...before, ...after]))).toEqual(figures(expected));
    expect(weightsOf(second)).toEqual(weightsOf(straight));
    [straight, first, second].forEach((m) => m.dispose());
  });

  test('refuses a count that is not a whole number, and lookahead with it, in one line', async () => {
    const m = model();
    await expect(lastValueFrom(fit(m, { ...base(8), accumulateBatches: 0 }))).rejects.toThrow(
      /^accumulateBatches must be a whole number ≥ 1, got 0$/,
    );
    await expect(lastValueFrom(fit(m, { ...base(8), accumulateBatches: 2, lookahead: {}, stepsPerEpoch: 5 }))).rejects.toThrow(
      /^lookahead counts optimizer steps and accumulateBatches groups them: use one or the other$/,
    );
    m.dispose();
  });
});
