import '@tensorflow/tfjs-backend-cpu';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMlp } from '@rxvision/model';
import { epochBatches } from '@rxvision/stream';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { lastValueFrom, Subject, tap, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { evaluate, fit, type FitOptions, parseSchedule, type TrainingEvent } from '../src/index.js';
import { loadCheckpoint, saveCheckpoint } from '../src/node/index.js';
import { WeightEma } from '../src/weight-ema.js';
import { figures, toyDataset } from './fixtures.js';

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'rxvision-ema-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const train = toyDataset(256, 1);
const validation = toyDataset(96, 2);
const options: FitOptions = {
  schedule: parseSchedule('2@0.05,1@0.01'),
  optimizer: { type: 'sgd', momentum: 0.9 },
  trainBatches: epochBatches(train, { batchSize: 32, seed: 43 }),
  validationBatches: () => epochBatches(validation, { batchSize: 40 })(0),
  ema: { decay: 0.8 },
};
const model = () => createMlp({ inputShape: [4, 4, 3], classes: 3, hidden: [32], seed: 5 });
const weightsOf = (m: tfl.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

describe('the moving average of the weights', () => {
  test("follows timm's ModelEma, ema·decay + weights·(1 − decay), in float64 within float32's rounding; a still weight stays to the bit", () => {
    const dense = tfl.sequential({ layers: [tfl.layers.dense({ units: 3, inputShape: [2] })] });
    const [kernel, bias] = dense.weights;
    tf.tidy(() => void bias!.write(tf.tensor1d([0.1, 0.2, 0.3])));
    const ema = new WeightEma(dense, { decay: 0.9 });
    let expected = Array.from(kernel!.read().dataSync(), Number);
    for (let step = 1; step <= 4; step++) {
      const next = Float32Array.from({ length: 6 }, (_, i) => Math.sin(step * 7 + i));
      tf.tidy(() => void kernel!.write(tf.tensor2d(next, [2, 3])));
      ema.afterStep();
      expected = expected.map((average, i) => average * 0.9 + next[i]! * 0.1);
    }
    const got = ema.weights[0]!.dataSync();
    expected.forEach((value, i) => expect(got[i]).toBeCloseTo(value, 6));
    expect(Array.from(ema.weights[1]!.dataSync())).toEqual(Array.from(bias!.read().dataSync()));
    ema.dispose();
    dense.dispose();
  });

  test('validation runs on it and the run ends with it: the last record is what the final model scores', async () => {
    const withEma = model();
    const events = await lastValueFrom(fit(withEma, options).pipe(toArray()));
    const last = events.filter((event) => event.type === 'epoch').at(-1)!.record;
    const scored = await lastValueFrom(evaluate(withEma, options.validationBatches!()));
    expect(scored.loss).toBe(last.valLoss);
    const plain = model();
    await lastValueFrom(fit(plain, { ...options, ema: undefined }));
    // Not the weights a run without it ends with.
    expect(weightsOf(withEma)).not.toEqual(weightsOf(plain));
    withEma.dispose();
    plain.dispose();
  });

  test('stopped mid-epoch and resumed from the checkpoint files: every event and the final weights to the bit', async () => {
    const straight = model();
    const expected = await lastValueFrom(fit(straight, options).pipe(toArray()));
    const folder = join(dir, 'checkpoint');
    const first = model();
    const stop = new Subject<void>();
    let steps = 0;
    const before = await lastValueFrom(
      fit(first, {
        ...options,
        stop,
        checkpoint: (state) => saveCheckpoint(folder, state, first),
      }).pipe(
        tap((event) => event.type === 'batch' && ++steps === 11 && stop.next()),
        toArray(),
      ),
    );
    expect(before.at(-1)).toMatchObject({ type: 'stopped', position: { epoch: 2, step: 3 } });
    const second = model();
    const { resume } = await loadCheckpoint(folder, second);
    expect(resume.ema).toHaveLength(second.weights.length);
    const after = await lastValueFrom(fit(second, { ...options, resume }).pipe(toArray()));
    const uninterrupted = (events: TrainingEvent[]) => events.filter((event) => event.type !== 'stopped');
    expect(figures(uninterrupted([...before, ...after]))).toEqual(figures(expected));
    expect(weightsOf(second)).toEqual(weightsOf(straight));
    [straight, first, second].forEach((m) => m.dispose());
  });
});
