import '@tensorflow/tfjs-backend-cpu';
import { createMlp } from '@rxvision/model';
import { epochBatches } from '@rxvision/stream';
import * as tf from '@tensorflow/tfjs-core';
import { lastValueFrom, map, reduce, Subject, tap, toArray } from 'rxjs';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  fit,
  type FitOptions,
  type Metric,
  parseSchedule,
  type TrainingEnd,
  type TrainingEvent,
  type TrainingState,
} from '../src/index.js';
import { toyDataset } from './fixtures.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const train = toyDataset(128, 1);
const validation = toyDataset(60, 2);
const base = {
  trainBatches: epochBatches(train, { batchSize: 32, seed: 43 }),
  validationBatches: () => epochBatches(validation, { batchSize: 30 })(0),
};
const model = () => createMlp({ inputShape: [4, 4, 3], classes: 3, hidden: [8], seed: 3 });
const ending = (events: TrainingEvent[]) => events.at(-1) as TrainingEnd;
/** A validation metric that reports the given figures, one per epoch, whatever the model does. */
function scripted(figures: readonly number[]): Metric {
  let epoch = 0;
  return (predictions) =>
    predictions.pipe(
      reduce((count) => count + 1, 0),
      map(() => figures[epoch++]!),
    );
}

describe('early stopping', () => {
  // A rate too small to move the loss by minDelta: the first epoch stays the best one.
  const still: FitOptions = {
    ...base,
    schedule: parseSchedule('8@1e-9'),
    earlyStopping: { monitor: 'valLoss', patience: 2, minDelta: 1e-3 },
  };

  test('ends after `patience` epochs without a better figure, saying why', async () => {
    const net = model();
    const events = await lastValueFrom(fit(net, still).pipe(toArray()));
    expect(ending(events)).toMatchObject({ type: 'end', reason: 'early-stopping' });
    expect(ending(events).history.map((record) => record.epoch)).toEqual([1, 2, 3]);
    net.dispose();
  });

  test('a run stopped and resumed ends where the uninterrupted one did: its state is the history', async () => {
    const net = model();
    const stop = new Subject<void>();
    let saved: TrainingState | undefined;
    const first = await lastValueFrom(
      fit(net, { ...still, stop, checkpoint: (state) => void (saved = state) }).pipe(
        tap((event) => event.type === 'epoch' && event.record.epoch === 2 && stop.next()),
        toArray(),
      ),
    );
    expect(first.at(-1)).toMatchObject({ type: 'stopped', position: { epoch: 3, step: 0 } });
    const rest = await lastValueFrom(
      fit(net, { ...still, resume: { position: saved!.position, history: saved!.history } }).pipe(toArray()),
    );
    expect(ending(rest)).toMatchObject({ reason: 'early-stopping' });
    expect(ending(rest).history.map((record) => record.epoch)).toEqual([1, 2, 3]);
    expect(rest.filter((event) => event.type === 'epoch').map((event) => (event.type === 'epoch' ? event.record.epoch : 0))).toEqual([3]);
    net.dispose();
  });

  test('a figure the record does not have is refused in one line', async () => {
    const net = model();
    await expect(lastValueFrom(fit(net, { ...still, earlyStopping: { monitor: 'top5', patience: 1 } }))).rejects.toThrow(
      '"top5" is not a figure of the epoch record (valLoss, valAccuracy, trainLoss)',
    );
    await expect(lastValueFrom(fit(net, { ...still, earlyStopping: { monitor: 'valLoss', patience: 0 } }))).rejects.toThrow(
      'earlyStopping.patience must be an integer ≥ 1, got 0',
    );
    net.dispose();
  });
});

describe('keepBest', () => {
  test('ends with the weights of the best epoch, kept with each checkpoint, and leaks no tensor', async () => {
    const net = model();
    const before = tf.memory().numTensors;
    const afterEpoch = new Map<number, Float32Array[]>();
    const checkpointed: (number | undefined)[] = [];
    const events = await lastValueFrom(
      fit(net, {
        ...base,
        schedule: parseSchedule('3@0.5'),
        metrics: { score: scripted([0.5, 0.9, 0.1]) },
        keepBest: { monitor: 'score' },
        checkpoint: (state) => void checkpointed.push(state.best?.epoch),
      }).pipe(
        tap(
          (event) =>
            event.type === 'epoch' &&
            afterEpoch.set(
              event.record.epoch,
              net.getWeights().map((w) => w.dataSync() as Float32Array),
            ),
        ),
        toArray(),
      ),
    );
    expect(ending(events)).toMatchObject({ reason: 'completed', bestEpoch: 2 });
    expect(checkpointed).toEqual([1, 2, 2]);
    const now = net.getWeights().map((w) => w.dataSync() as Float32Array);
    expect(now).toEqual(afterEpoch.get(2));
    expect(now).not.toEqual(afterEpoch.get(3)); // the last epoch moved them
    expect(tf.memory().numTensors).toBe(before);
    net.dispose();
  });
});

describe('time budget', () => {
  test('no epoch starts that would end past the budget; a generous one changes nothing', async () => {
    const net = model();
    const tight = ending(
      await lastValueFrom(fit(net, { ...base, schedule: parseSchedule('5@0.1'), timeBudgetSeconds: 1e-6 }).pipe(toArray())),
    );
    expect(tight).toMatchObject({ reason: 'time-budget' });
    expect(tight.history).toHaveLength(1); // the first epoch always runs: nothing to predict its length by
    const generous = ending(
      await lastValueFrom(fit(net, { ...base, schedule: parseSchedule('3@0.1'), timeBudgetSeconds: 3600 }).pipe(toArray())),
    );
    expect(generous).toMatchObject({ reason: 'completed' });
    expect(generous.history).toHaveLength(3);
    net.dispose();
  });
});

describe('a trial policy between epochs (a sweep’s ASHA)', () => {
  test('asked with the history after each epoch but the last; `stop` ends the run there, reason scheduler', async () => {
    const net = model();
    const asked: number[] = [];
    const events = await lastValueFrom(
      fit(net, {
        ...base,
        schedule: parseSchedule('4@0.1'),
        trialPolicy: async (history) => (asked.push(history.length), history.length === 2 ? 'stop' : 'continue'),
      }).pipe(toArray()),
    );
    expect(asked).toEqual([1, 2]);
    expect(ending(events)).toMatchObject({ type: 'end', reason: 'scheduler' });
    expect(ending(events).history).toHaveLength(2);
    net.dispose();
  });

  test('`pause` stops at the epoch boundary like a stop request (checkpointed); resumed, it is asked again and goes on as if never paused', async () => {
    const whole = model();
    const uninterrupted = await lastValueFrom(fit(whole, { ...base, schedule: parseSchedule('3@0.1') }).pipe(toArray()));
    whole.dispose();
    const net = model();
    let saved: TrainingState | undefined;
    let asked = 0;
    const paused = await lastValueFrom(
      fit(net, {
        ...base,
        schedule: parseSchedule('3@0.1'),
        checkpoint: (state) => void (saved = state),
        trialPolicy: () => (++asked === 1 ? 'continue' : 'pause'),
      }).pipe(toArray()),
    );
    expect(paused.at(-1)).toMatchObject({ type: 'stopped', position: { epoch: 3, step: 0 }, by: 'scheduler' });
    const questions: number[] = [];
    const rest = await lastValueFrom(
      fit(net, {
        ...base,
        schedule: parseSchedule('3@0.1'),
        resume: { position: saved!.position, history: saved!.history },
        trialPolicy: (history) => (questions.push(history.length), 'continue'),
      }).pipe(toArray()),
    );
    expect(questions).toEqual([2]); // asked again before epoch 3, with the same history
    const losses = (events: TrainingEvent[]) => events.flatMap((event) => (event.type === 'epoch' ? [event.record.valLoss] : []));
    expect([...losses(paused), ...losses(rest)]).toEqual(losses(uninterrupted));
    net.dispose();
  });

  test('a run resumed inside an epoch is not asked before finishing it', async () => {
    const net = model();
    const stop = new Subject<void>();
    let saved: TrainingState | undefined;
    await lastValueFrom(
      fit(net, { ...base, schedule: parseSchedule('3@0.1'), stop, checkpoint: (state) => void (saved = state) }).pipe(
        tap((event) => event.type === 'batch' && event.epoch === 2 && event.step === 2 && stop.next()),
      ),
    );
    expect(saved!.position).toMatchObject({ epoch: 2, step: 2 });
    const questions: number[] = [];
    await lastValueFrom(
      fit(net, {
        ...base,
        schedule: parseSchedule('3@0.1'),
        resume: { position: saved!.position, history: saved!.history },
        trialPolicy: (history) => (questions.push(history.length), 'continue'),
      }),
    );
    expect(questions).toEqual([2]); // after epoch 2, not before its rest
    net.dispose();
  });
});
