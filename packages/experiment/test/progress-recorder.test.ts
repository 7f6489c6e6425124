import { describe, expect, test } from 'vitest';
import { ProgressRecorder } from '../src/progress-recorder.js';

const batch = (epoch: number, step: number) => ({
  type: 'batch' as const,
  epoch,
  phase: 0,
  step,
  size: 10,
  loss: 1 / (epoch * 100 + step),
  learningRate: 0.1,
});

describe('ProgressRecorder', () => {
  test('keeps every step until the bound, then every other one with the stride doubled: never more than the bound', () => {
    const recorder = new ProgressRecorder(10, 100, [], 64);
    for (let epoch = 1; epoch <= 10; epoch++)
      for (let step = 1; step <= 100; step++) recorder.batch(batch(epoch, step), epoch * 1000 + step);
    const { steps } = recorder.snapshot(11_000)!;
    expect(steps.stride).toBe(16); // 1000 steps into at most 64 points
    expect(steps.step.length).toBeLessThanOrEqual(64);
    expect(steps.step.every((step) => step % 16 === 0)).toBe(true);
    expect(steps.step.at(-1)).toBe(992);
    expect(steps.loss[steps.step.indexOf(320)]).toBe(1 / (4 * 100 + 20)); // step 320 is epoch 4, step 20
  });

  test('samples a second and time left from the pace of this epoch, then of the epochs that ended', () => {
    const recorder = new ProgressRecorder(3, 10);
    for (let step = 1; step <= 5; step++) recorder.batch(batch(1, step), 1000 * step); // a step a second, from 1 s
    expect(recorder.snapshot(5000)).toMatchObject({ epoch: 1, step: 5, samplesPerSecond: 12.5, secondsLeft: 5 * 0.8 + 2 * 10 * 0.8 });
    recorder.epoch(20); // the first epoch took 20 s with its validation
    recorder.batch(batch(2, 1), 30_000);
    recorder.batch(batch(2, 2), 31_000);
    expect(recorder.snapshot(31_000)!.secondsLeft).toBe(8 * 0.5 + 1 * 20);
  });

  test('nothing to say before the first step', () => {
    expect(new ProgressRecorder(1, 1).snapshot()).toBeUndefined();
  });
});
