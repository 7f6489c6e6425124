import '@tensorflow/tfjs-backend-cpu';
import { readFileSync } from 'node:fs';
import type { EpochRecord } from '@rxvision/metrics';
import { epochBatches } from '@rxvision/stream';
import * as tf from '@tensorflow/tfjs-core';
import { createTutorialModel } from '@rxvision/model';
import { lastValueFrom, toArray } from 'rxjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { checkSchedule, fit, learningRateAt, type PlateauSchedule } from '../src/index.js';
import { toyDataset } from './fixtures.js';

// PyTorch's ReduceLROnPlateau on five figure sequences (tools/torch-reference/reduce_lr_on_plateau.py
// wrote them with torch 1.13): the rate it gives before each epoch.
interface Case {
  setting: { mode: 'min' | 'max'; factor: number; patience: number; threshold: number; cooldown: number; min_lr: number };
  learningRate: number;
  figures: number[];
  rates: number[];
}
const reference = JSON.parse(readFileSync(new URL('./fixtures/reduce-lr-on-plateau.json', import.meta.url), 'utf8')) as {
  cases: Case[];
};

const record = (epoch: number, figure: number): EpochRecord =>
  ({ epoch, phase: 0, learningRate: 0, trainLoss: 0, valLoss: figure, valAccuracy: 0, seconds: 0 }) as unknown as EpochRecord;

beforeAll(async () => void (await tf.setBackend('cpu')));

describe('the plateau schedule', () => {
  test.each(reference.cases.map((c, i) => [i, c] as const))(
    "gives PyTorch's rates, case %i",
    (_, { setting, learningRate, figures, rates }) => {
      const schedule: PlateauSchedule = {
        type: 'plateau',
        epochs: figures.length + 1,
        learningRate,
        mode: setting.mode,
        factor: setting.factor,
        patience: setting.patience,
        threshold: setting.threshold,
        cooldown: setting.cooldown,
        minLearningRate: setting.min_lr,
      };
      const history = figures.map((figure, i) => record(i + 1, figure));
      const ours = rates.map((_, i) => learningRateAt(schedule, i + 1, 0, 1, history));
      ours.forEach((rate, i) => expect(rate, `epoch ${i + 1}`).toBeCloseTo(rates[i]!, 12));
      // Only the epochs before it count: the rest of the history changes nothing.
      expect(learningRateAt(schedule, 5, 3, 1, history.slice(0, 4))).toBe(ours[4]);
    },
  );

  test('refuses settings PyTorch would, one line each', () => {
    const plateau = { type: 'plateau', epochs: 5, learningRate: 0.1 } as const;
    expect(() => checkSchedule({ ...plateau, factor: 1 })).toThrow(/^schedule plateau: factor must be in \(0, 1\), got 1$/);
    expect(() => checkSchedule({ ...plateau, patience: 1.5 })).toThrow(/^schedule plateau: patience must be an integer ≥ 0, got 1.5$/);
    expect(() => checkSchedule({ ...plateau, learningRate: 0 })).toThrow(/^schedule plateau: learningRate must be > 0, got 0$/);
  });

  test('in fit: the rate falls after a stalled epoch, and each step and record shows it', async () => {
    const data = toyDataset(96, 3);
    const model = createTutorialModel({ inputShape: [4, 4, 3], classes: 3, seed: 5 });
    // valAccuracy cannot beat best·(1 + 2): the first epoch sets the best (as PyTorch's first step
    // does), and each later one halves the rate.
    const schedule: PlateauSchedule = {
      type: 'plateau',
      epochs: 3,
      learningRate: 0.04,
      monitor: 'valAccuracy',
      threshold: 2,
      factor: 0.5,
      patience: 0,
    };
    const events = await lastValueFrom(
      fit(model, {
        schedule,
        trainBatches: epochBatches(data, { batchSize: 32, seed: 1 }),
        validationBatches: () => epochBatches(data, { batchSize: 32 })(0),
        stepsPerEpoch: 3,
      }).pipe(toArray()),
    );
    const epochs = events.flatMap((event) => (event.type === 'epoch' ? [event.record.learningRate] : []));
    expect(epochs).toEqual([0.04, 0.04, 0.02]);
    const steps = events.flatMap((event) => (event.type === 'batch' ? [event.learningRate] : []));
    expect(steps).toEqual([0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.02, 0.02, 0.02]);
    model.dispose();
  });

  test('watching a validation figure without validation batches is refused before training', async () => {
    const model = createTutorialModel({ inputShape: [4, 4, 3], classes: 3, seed: 5 });
    const run = fit(model, {
      schedule: { type: 'plateau', epochs: 2, learningRate: 0.1 },
      trainBatches: epochBatches(toyDataset(32, 1), { batchSize: 16, seed: 1 }),
    }).pipe(toArray());
    await expect(lastValueFrom(run)).rejects.toThrow(/^the plateau schedule watches valLoss: fit needs validationBatches$/);
    model.dispose();
  });
});
