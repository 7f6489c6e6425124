import '@tensorflow/tfjs-backend-cpu';
import { createCnn } from '@rxvision/model';
import { epochBatches } from '@rxvision/stream';
import * as tf from '@tensorflow/tfjs-core';
import { lastValueFrom, take, toArray } from 'rxjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { lrFinder, type LrFinderResult, type LrFinderStep, suggestLearningRate, suggestLearningRates } from '../src/index.js';
import { toyDataset } from './fixtures.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const train = toyDataset(256, 7);
const network = () => createCnn({ inputShape: [4, 4, 3], classes: 3, blocks: [8], seed: 5 });
const weightsOf = (model: ReturnType<typeof network>) => model.getWeights().map((w) => Array.from(w.dataSync()));

describe('suggestLearningRate (fastai valley)', () => {
  test('a third of the way into the longest fall, worked by hand on a curve of 20 steps', () => {
    // Trimmed as lr_find does (the first 2 of 20 and the last 5): 8, 7, …, 1.1, then rising. The
    // longest fall is its first 10 values; fastai takes index −1 + ⌊10/3⌋ + ⌊10/6⌋ = 3 of the trimmed curve.
    const losses = [9, 9, 8, 7, 6, 5, 4, 3, 2, 1.5, 1.2, 1.1, 2, 4, 8, 9, 9, 9, 9, 9];
    const curve: LrFinderStep[] = losses.map((loss, step) => ({ step, loss, learningRate: 10 ** (step / 4 - 5) }));
    expect(suggestLearningRate(curve)).toBe(curve[2 + 3]!.learningRate);
    expect(suggestLearningRate(curve.slice(0, 6))).toBeUndefined();
    // minimum: a tenth of the rate at the lowest loss (1.1, step 11); steep: the first of the equal
    // steepest falls (−1 a step on an even log grid, from step 2), as argmin takes it.
    expect(suggestLearningRates(curve)).toEqual({
      valley: curve[5]!.learningRate,
      minimum: curve[11]!.learningRate / 10,
      steep: curve[2]!.learningRate,
    });
  });
});

describe('lrFinder', () => {
  test('rates rise exponentially, the smoothed loss stops it where it diverges, and the model is left as it was', async () => {
    const model = network();
    const before = weightsOf(model);
    const options = {
      trainBatches: epochBatches(train, { batchSize: 32, seed: 1 }),
      optimizer: { type: 'adam' },
      startLearningRate: 1e-4,
      endLearningRate: 1e3,
      steps: 60,
    } as const;
    const events = await lastValueFrom(lrFinder(model, options).pipe(toArray()));
    const result = events.at(-1) as LrFinderResult;
    const steps = events.slice(0, -1) as LrFinderStep[];
    expect(result.steps).toEqual(steps);
    steps.forEach(({ learningRate }, i) => expect(learningRate).toBeCloseTo(1e-4 * 1e7 ** (i / 60), 12));
    // Adam at rates toward 1000 diverges: the test stops before its 60 steps, past 4× the best smoothed loss.
    expect(steps.length).toBeLessThan(60);
    const best = Math.min(...steps.map((s) => s.loss));
    expect(steps.at(-1)!.loss > 4 * best || !Number.isFinite(steps.at(-1)!.loss)).toBe(true);
    expect(result.suggestion).toBeGreaterThan(1e-4);
    expect(result.suggestion).toBeLessThan(steps.at(-1)!.learningRate);
    expect(weightsOf(model)).toEqual(before);
  });

  test('unsubscribed after three steps, the model is put back too', async () => {
    const model = network();
    const before = weightsOf(model);
    const steps = await lastValueFrom(
      lrFinder(model, { trainBatches: epochBatches(train, { batchSize: 32, seed: 1 }), startLearningRate: 0.1, endLearningRate: 10 }).pipe(
        take(3),
        toArray(),
      ),
    );
    expect(steps).toHaveLength(3);
    expect(weightsOf(model)).toEqual(before);
  });

  test('rates that do not rise, or too few steps, are one line', () => {
    const trainBatches = epochBatches(train, { batchSize: 32 });
    expect(() => lrFinder(network(), { trainBatches, startLearningRate: 1, endLearningRate: 0.1 })).toThrow(
      'lrFinder: rates must rise from above 0, got 1 to 0.1',
    );
    expect(() => lrFinder(network(), { trainBatches, steps: 3 })).toThrow('lrFinder: steps must be an integer of at least 6, got 3');
  });
});
