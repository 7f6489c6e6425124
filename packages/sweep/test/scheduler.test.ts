import type { EpochRecord } from '@rxvision/metrics';
import { describe, expect, test } from 'vitest';
import { comparesAt, decide, quantile, rungs, type ScheduledTrial, trialScheduler } from '../src/index.js';

/** A history whose validation accuracy (and loss, 1 − accuracy) is `accuracies` epoch by epoch. */
const history = (accuracies: readonly number[]): EpochRecord[] =>
  accuracies.map((valAccuracy, i) => ({
    epoch: i + 1,
    phase: 0,
    learningRate: 0.1,
    trainLoss: 1,
    valLoss: 1 - valAccuracy,
    valAccuracy,
    seconds: 1,
  }));
const running = (accuracies: readonly number[]): ScheduledTrial => ({ history: history(accuracies), done: false });
const done = (accuracies: readonly number[]): ScheduledTrial => ({ history: history(accuracies), done: true });

const asha = trialScheduler({ type: 'asha', metric: 'valAccuracy', gracePeriod: 1, reductionFactor: 3, brackets: 1 }, 9);

describe('ASHA on recorded histories', () => {
  test('rungs at gracePeriod·η^k below the most epochs; brackets start η^b later', () => {
    expect(rungs(asha, 0)).toEqual([1, 3]);
    expect(rungs(trialScheduler({ type: 'asha', metric: 'valAccuracy', gracePeriod: 1, reductionFactor: 3, brackets: 1 }, 10), 0)).toEqual([
      1, 3, 9,
    ]);
    expect(rungs(trialScheduler({ type: 'asha', metric: 'valAccuracy', gracePeriod: 2, reductionFactor: 2, brackets: 2 }, 16), 1)).toEqual([
      4, 8,
    ]);
  });

  test('at a rung a trial goes on only in the best 1/η of the trials before it; between rungs it goes on', () => {
    const trials = [done([0.5, 0.52, 0.6]), done([0.6, 0.62, 0.7]), done([0.4]), running([0.58])];
    expect(decide(asha, trials, 0, history([0.5]))).toBe('continue'); // nothing to compare with
    expect(decide(asha, trials, 1, history([0.6]))).toBe('continue'); // cutoff 0.5
    expect(decide(asha, trials, 2, history([0.4]))).toBe('stop'); // cutoff of [0.5, 0.6] at 2/3: 0.5667
    expect(decide(asha, trials, 3, history([0.58]))).toBe('continue'); // cutoff of [0.4, 0.5, 0.6]: 0.5333
    expect(decide(asha, trials, 3, history([0.58, 0.3]))).toBe('continue'); // epoch 2 is no rung
    // At epoch 3, trial 2 stopped before it: the rung holds trials 0 and 1 (0.6, 0.7): cutoff 0.6667.
    expect(decide(asha, trials, 3, history([0.58, 0.6, 0.65]))).toBe('stop');
    expect(decide(asha, trials, 3, history([0.58, 0.6, 0.67]))).toBe('continue');
  });

  test('only rungs need the other trials: comparesAt says where a decision reads them', () => {
    expect([0, 1, 2, 3, 4, 9].map((epoch) => comparesAt(asha, 0, epoch))).toEqual([false, true, false, true, false, false]);
    const median = trialScheduler({ type: 'median', metric: 'valAccuracy', gracePeriod: 2, minSamples: 1 }, 10);
    expect([1, 2, 5].map((epoch) => comparesAt(median, 0, epoch))).toEqual([false, true, true]);
  });

  test('ties at the cutoff go on; just below it stops', () => {
    const trials = [done([0.5]), done([0.5]), done([0.5])];
    expect(decide(asha, trials, 3, history([0.5]))).toBe('continue');
    expect(decide(asha, trials, 3, history([0.4999]))).toBe('stop');
  });

  test('a failed trial counts at the rungs it reached and is not waited for at the others', () => {
    const failedAfterTwo = done([0.9, 0.95]);
    expect(decide(asha, [failedAfterTwo], 1, history([0.8]))).toBe('stop'); // its epoch 1 counts
    expect(decide(asha, [failedAfterTwo], 1, history([0.95, 0.96, 0.97]))).toBe('continue'); // it never reached 3: no wait, nothing to compare
  });

  test('a trial waits, at a rung only, for an earlier trial that has not got as far; later trials never matter', () => {
    const trials = [running([0.5]), running([])];
    expect(decide(asha, trials, 2, history([0.9]))).toBe('wait'); // trial 1 has not reached epoch 1
    expect(decide(asha, trials, 2, history([0.9, 0.9]))).toBe('continue'); // epoch 2 is no rung: nothing to wait for
    expect(decide(asha, [running([0.5, 0.5])], 1, history([0.1, 0.1, 0.1]))).toBe('wait'); // trial 0 is at epoch 2 of rung 3
    expect(decide(asha, [done([0.5]), done([0.99])], 0, history([0.1]))).toBe('continue'); // trials after it never matter
  });

  test('min mode: a loss at a rung is compared the other way', () => {
    const byLoss = trialScheduler({ type: 'asha', metric: 'valLoss', gracePeriod: 1, reductionFactor: 2, brackets: 1 }, 4);
    expect(byLoss.mode).toBe('min');
    const trials = [done([0.8, 0.9]), done([0.6, 0.7])]; // losses 0.2 then 0.1, and 0.4 then 0.3
    expect(decide(byLoss, trials, 2, history([0.75]))).toBe('continue'); // loss 0.25 ≤ the median of 0.2 and 0.4
    expect(decide(byLoss, trials, 2, history([0.65]))).toBe('stop'); // loss 0.35 > 0.3
  });

  test('brackets compare a trial with its own bracket only', () => {
    const twoBrackets = trialScheduler({ type: 'asha', metric: 'valAccuracy', gracePeriod: 1, reductionFactor: 2, brackets: 2 }, 8);
    const trials = [done([0.1, 0.1]), done([0.9, 0.9, 0.9]), done([0.2, 0.2])];
    expect(decide(twoBrackets, trials, 2, history([0.15]))).toBe('continue'); // bracket 0: only trial 0 (0.1)
    expect(decide(twoBrackets, trials, 3, history([0.5, 0.5]))).toBe('stop'); // bracket 1: rung 2 holds trial 1 (0.9)
    expect(decide(twoBrackets, trials, 3, history([0.5]))).toBe('continue'); // epoch 1 is no rung of bracket 1
  });
});

describe('median stopping on recorded histories', () => {
  const median = trialScheduler({ type: 'median', metric: 'valAccuracy', gracePeriod: 2, minSamples: 2 }, 10);

  test('from the grace period on, a best figure below the median of earlier trials’ best at that epoch stops', () => {
    const trials = [done([0.3, 0.5, 0.55]), done([0.4, 0.6, 0.4]), done([0.2, 0.45])];
    expect(decide(median, trials, 3, history([0.1]))).toBe('continue'); // before the grace period
    expect(decide(median, trials, 3, history([0.1, 0.49]))).toBe('stop'); // median of 0.5, 0.6, 0.45 is 0.5
    expect(decide(median, trials, 3, history([0.1, 0.5]))).toBe('continue'); // a tie goes on
    // At epoch 3 only trials 0 and 1 got there; trial 1's best so far is 0.6: median 0.575.
    expect(decide(median, trials, 3, history([0.1, 0.5, 0.57]))).toBe('stop');
  });

  test('fewer than minSamples earlier trials at that epoch: it goes on', () => {
    expect(decide(median, [done([0.9, 0.9])], 1, history([0.1, 0.1]))).toBe('continue');
  });
});

describe('quantile', () => {
  test('interpolates between order statistics as numpy does', () => {
    expect(quantile([3, 1, 2], 0.5)).toBe(2);
    expect(quantile([1, 2], 0.5)).toBe(1.5);
    expect(quantile([0.4, 0.5, 0.6], 2 / 3)).toBeCloseTo(0.5333333, 6);
    expect(quantile([7], 0.9)).toBe(7);
  });
});
