import type { EpochRecord } from '@rxvision/metrics';
import { expect, test } from 'vitest';
import { beforeEpoch, type TrialDecision } from '../src/index.js';

const record = (epoch: number, valLoss: number): EpochRecord => ({
  epoch,
  phase: 0,
  learningRate: 0.1,
  trainLoss: 1,
  valLoss,
  valAccuracy: 0.5,
  seconds: 10,
});
// Epoch 1 was the best; epochs 2 and 3 did not beat it.
const history = [record(1, 0.5), record(2, 0.6), record(3, 0.7)];
const at = { requested: false, atEpochStart: true };

test('a requested stop pauses; then the run’s own rules end it; then its trial policy decides', async () => {
  const asked: number[] = [];
  const policy = (answer: TrialDecision) => (h: readonly EpochRecord[]) => (asked.push(h.length), answer);
  const patience = { earlyStopping: { monitor: 'valLoss', patience: 2 } };
  expect(await beforeEpoch(history, { ...patience, trialPolicy: policy('stop') }, { ...at, requested: true })).toEqual({
    action: 'pause',
    by: 'request',
  });
  expect(await beforeEpoch(history, { ...patience, trialPolicy: policy('stop') }, at)).toEqual({ action: 'end', reason: 'early-stopping' });
  expect(await beforeEpoch(history, { timeBudgetSeconds: 35, trialPolicy: policy('stop') }, at)).toEqual({
    action: 'end',
    reason: 'time-budget',
  });
  expect(asked).toEqual([]); // not asked once the run's own rules decided
  expect(await beforeEpoch(history, { trialPolicy: policy('stop') }, at)).toEqual({ action: 'end', reason: 'scheduler' });
  expect(await beforeEpoch(history, { trialPolicy: policy('pause') }, at)).toEqual({ action: 'pause', by: 'scheduler' });
  expect(await beforeEpoch(history, { trialPolicy: policy('continue') }, at)).toEqual({ action: 'continue' });
  expect(asked).toEqual([3, 3, 3]);
});

test('the trial policy is not asked before the first epoch, nor inside an epoch a resumed run finishes', async () => {
  let asked = 0;
  const trialPolicy = () => (asked++, 'stop' as const);
  expect(await beforeEpoch([], { trialPolicy }, at)).toEqual({ action: 'continue' });
  expect(await beforeEpoch(history, { trialPolicy }, { ...at, atEpochStart: false })).toEqual({ action: 'continue' });
  expect(asked).toBe(0);
});
