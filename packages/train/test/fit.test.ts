import '@tensorflow/tfjs-backend-cpu';
import { createTutorialModel } from '@rxvision/model';
import { epochBatches } from '@rxvision/stream';
import * as tf from '@tensorflow/tfjs-core';
import type { EpochRecord } from '@rxvision/metrics';
import { filter, lastValueFrom, Subject, take, tap, toArray } from 'rxjs';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  evaluate,
  fit,
  parseSchedule,
  type ResumeFrom,
  type TrainingEvent,
  type TrainingPosition,
  TUTORIAL_SCHEDULE,
  totalEpochs,
} from '../src/index.js';
import { toyDataset } from './fixtures.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const train = toyDataset(256, 1);
const validation = toyDataset(96, 2);
const options = {
  schedule: parseSchedule('2@0.05,1@0.01'),
  trainBatches: epochBatches(train, { batchSize: 32, seed: 43 }),
  validationBatches: () => epochBatches(validation, { batchSize: 40 })(0),
};

describe('fit', () => {
  test('learns, reports steps and epochs in order, ends with the history, and leaks no tensor', async () => {
    const model = createTutorialModel({ inputShape: [4, 4, 3], classes: 3, seed: 5, outputRelu: false });
    const before = tf.memory().numTensors;
    const alive: number[] = [];
    const events = await lastValueFrom(
      fit(model, options).pipe(
        tap(() => alive.push(tf.memory().numTensors)),
        toArray(),
      ),
    );
    // Batches are pulled one at a time: as many tensors are alive at every step of an epoch.
    expect(new Set(alive.slice(0, 6)).size).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
    const kinds = events.map((e) => e.type);
    expect(kinds.filter((k) => k === 'batch')).toHaveLength(3 * 8);
    expect(kinds.slice(0, 9)).toEqual([...Array(8).fill('batch'), 'epoch']);
    const end = events.at(-1) as Extract<TrainingEvent, { type: 'end' }>;
    expect(end.type).toBe('end');
    expect(end.history.map((row) => [row.epoch, row.phase, row.learningRate])).toEqual([
      [1, 0, 0.05],
      [2, 0, 0.05],
      [3, 1, 0.01],
    ]);
    expect(end.history[0]!.trainLoss).toBeGreaterThan(end.history[2]!.trainLoss);
    expect(end.history[2]!.valAccuracy).toBeGreaterThan(0.8); // chance is 1/3
    model.dispose();
  });

  test('unsubscribing mid-epoch stops after the current step and leaks no tensor', async () => {
    const model = createTutorialModel({ inputShape: [4, 4, 3], classes: 3, seed: 5 });
    const before = tf.memory().numTensors;
    const steps = await lastValueFrom(
      fit(model, options).pipe(
        filter((e) => e.type === 'batch'),
        take(3),
        toArray(),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 50)); // let the step in flight finish
    expect(steps).toHaveLength(3);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('evaluate', () => {
  test('averages the loss per sample over the whole split', async () => {
    const model = createTutorialModel({ inputShape: [4, 4, 3], classes: 3, seed: 9, outputRelu: false });
    const byBatches = await lastValueFrom(evaluate(model, epochBatches(validation, { batchSize: 40 })(0)));
    const whole = await lastValueFrom(evaluate(model, epochBatches(validation, { batchSize: 96 })(0)));
    expect(byBatches.loss).toBeCloseTo(whole.loss, 5); // a short last batch (16 rows) changes nothing
    expect(byBatches.accuracy).toBe(whole.accuracy);
    expect(Array.from(byBatches.confusion.counts).reduce((a, b) => a + b, 0)).toBe(96);
    model.dispose();
  });
});

describe('schedules', () => {
  test('the tutorial schedule has 64 epochs; text schedules parse or fail clearly', () => {
    expect(totalEpochs(TUTORIAL_SCHEDULE)).toBe(64);
    expect(parseSchedule('10@0.05, 8@5e-3')).toEqual([
      { epochs: 10, learningRate: 0.05 },
      { epochs: 8, learningRate: 0.005 },
    ]);
    expect(() => parseSchedule('10:0.05')).toThrow('"10:0.05" is not EPOCHS@LEARNING_RATE (for example 10@0.05)');
    expect(() => parseSchedule('0@0.1')).toThrow(/epochs must be ≥ 1/);
  });
});

describe('fit and the event loop', () => {
  test('timers run between steps, so progress output, file writes and signals are not starved', async () => {
    const model = createTutorialModel({ inputShape: [4, 4, 3], classes: 3, seed: 5 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    await lastValueFrom(fit(model, { ...options, schedule: parseSchedule('1@0.05'), validationBatches: undefined }).pipe(toArray()));
    clearInterval(timer);
    expect(ticks).toBeGreaterThanOrEqual(4); // 8 steps; without yielding, the interval would not fire during them
    model.dispose();
  });
});

describe('reproducing and resuming', { timeout: 180_000 }, () => {
  // Smaller than the rest: four steps per epoch keep three-run tests quick on the cpu backend.
  const small = {
    trainBatches: epochBatches(toyDataset(128, 3), { batchSize: 32, seed: 43 }),
    validationBatches: () => epochBatches(toyDataset(32, 4), { batchSize: 32 })(0),
  };
  const steps = (events: TrainingEvent[]) => events.flatMap((e) => (e.type === 'batch' ? [[e.epoch, e.step, e.loss]] : []));
  const rows = (events: TrainingEvent[]) =>
    (events.at(-1) as Extract<TrainingEvent, { type: 'end' }>).history.map(({ seconds: _s, ...row }) => row);
  const train3 = (model: ReturnType<typeof createTutorialModel>, extra: Partial<Parameters<typeof fit>[1]> = {}) =>
    lastValueFrom(fit(model, { ...small, schedule: parseSchedule('2@0.05,1@0.01'), ...extra }).pipe(toArray()));

  test('same seed, same data, cpu: identical initial weights and identical losses', async () => {
    const a = createTutorialModel({ inputShape: [4, 4, 3], classes: 3, seed: 11 });
    const b = createTutorialModel({ inputShape: [4, 4, 3], classes: 3, seed: 11 });
    expect(a.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(b.getWeights().map((w) => Array.from(w.dataSync())));
    const [first, second] = [await train3(a), await train3(b)];
    expect(steps(second)).toEqual(steps(first));
    [a, b].forEach((m) => m.dispose());
  });

  test('stopping mid-epoch, then resuming from the checkpoint, gives the uninterrupted history', async () => {
    const straight = createTutorialModel({ inputShape: [4, 4, 3], classes: 3, seed: 11 });
    const expected = await train3(straight);
    straight.dispose();

    // Ask to stop when step 2 of epoch 2 is reported: step 3 is not pulled. The checkpoint keeps
    // weights, position and history.
    const model = createTutorialModel({ inputShape: [4, 4, 3], classes: 3, seed: 11 });
    const stop = new Subject<void>();
    let saved: { position: TrainingPosition; history: readonly EpochRecord[]; weights: tf.Tensor[] } | undefined;
    const before = tf.memory().numTensors;
    const first = await lastValueFrom(
      fit(model, {
        ...small,
        schedule: parseSchedule('2@0.05,1@0.01'),
        stop,
        checkpoint: (state) => {
          if (state.reason === 'stop')
            saved = { position: state.position, history: state.history, weights: model.getWeights().map((w) => w.clone()) };
        },
      }).pipe(
        tap((e) => e.type === 'batch' && e.epoch === 2 && e.step === 2 && stop.next()),
        toArray(),
      ),
    );
    expect(first.at(-1)).toMatchObject({ type: 'stopped', position: { epoch: 2, step: 2 } });
    expect(saved!.position).toMatchObject({ epoch: 2, step: 2 });
    expect(tf.memory().numTensors).toBe(before + saved!.weights.length); // only the clones we kept
    model.dispose();

    const resumed = createTutorialModel({ inputShape: [4, 4, 3], classes: 3, seed: 99 }); // other weights, then restored
    resumed.setWeights(saved!.weights);
    tf.dispose(saved!.weights);
    const rest = await train3(resumed, { resume: { position: saved!.position, history: saved!.history } });
    expect(rows(rest)).toEqual(rows(expected));
    expect(steps([...first, ...rest])).toEqual(steps(expected));
    resumed.dispose();
  });

  test("fit takes the resumed state's tensors over: disposed once in place, or at teardown when it gets no further", async () => {
    const model = createTutorialModel({ inputShape: [4, 4, 3], classes: 3, seed: 11 });
    const adam = { optimizer: { type: 'adam' as const }, schedule: parseSchedule('2@0.01') };
    const stop = new Subject<void>();
    let saved: ResumeFrom | undefined;
    await lastValueFrom(
      fit(model, {
        ...small,
        ...adam,
        stop,
        checkpoint: async (state) => {
          if (state.reason === 'stop')
            saved = { position: state.position, history: state.history, optimizerWeights: await state.optimizer.getWeights() };
        },
      }).pipe(tap((e) => e.type === 'batch' && e.epoch === 2 && e.step === 1 && stop.next())),
    );
    // Each try gets its own copy: the optimizer's state and a best epoch's weights.
    const given = (position = saved!.position): ResumeFrom => ({
      ...saved!,
      position,
      optimizerWeights: saved!.optimizerWeights!.map(({ name, tensor }) => ({ name, tensor: tensor.clone() })),
      best: { epoch: 1, weights: model.getWeights().map((w) => w.clone()) },
    });
    const tensorsOf = (resume: ResumeFrom) => [...resume.optimizerWeights!.map((w) => w.tensor), ...resume.best!.weights];
    const before = tf.memory().numTensors;

    const finished = given();
    await lastValueFrom(fit(model, { ...small, ...adam, resume: finished }));
    const unsubscribed = given();
    fit(model, { ...small, ...adam, resume: unsubscribed })
      .subscribe()
      .unsubscribe();
    const refused = given({ ...saved!.position, epoch: 9 });
    await expect(lastValueFrom(fit(model, { ...small, ...adam, resume: refused }))).rejects.toThrow(/cannot resume at epoch 9/);
    for (const resume of [finished, unsubscribed, refused]) expect(tensorsOf(resume).map((t) => t.isDisposed)).not.toContain(false);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(saved!.optimizerWeights!.map((w) => w.tensor));
    model.dispose();
  });

  test('a loss that becomes NaN stops the run with the epoch and step', async () => {
    const model = createTutorialModel({ inputShape: [4, 4, 3], classes: 3, seed: 11, outputRelu: false });
    const checkpoints: string[] = [];
    const run = lastValueFrom(
      fit(model, { ...options, schedule: parseSchedule('2@1e30'), checkpoint: (s) => void checkpoints.push(s.reason) }),
    );
    await expect(run).rejects.toThrow(/the training loss became (NaN|Infinity) at epoch 1, step \d+/);
    expect(checkpoints).toEqual([]);
    model.dispose();
  });
});
