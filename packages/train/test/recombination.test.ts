import '@tensorflow/tfjs-backend-cpu';
import type { EpochRecord } from '@rxvision/metrics';
import { topKAccuracy } from '@rxvision/metrics';
import { createMlp } from '@rxvision/model';
import { epochBatches, evaluationBatches } from '@rxvision/stream';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { concatMap, lastValueFrom, Subject, tap, toArray } from 'rxjs';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  evaluate,
  fit,
  type FitOptions,
  type LearningRateSchedule,
  learningRateAt,
  type OptimizerSpec,
  type OptimizerWeights,
  softmaxCrossEntropy,
  type TrainingEvent,
  TrainingOptimizer,
  type TrainingPosition,
} from '../src/index.js';
import { ImageDataset, labelArray } from '@rxvision/dataset';
import { toyDataset } from './fixtures.js';
import { checkSchedule } from '../src/learning-rate.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const small = {
  trainBatches: epochBatches(toyDataset(128, 3), { batchSize: 32, seed: 43 }),
  validationBatches: evaluationBatches(toyDataset(32, 4), { batchSize: 32 }),
  stepsPerEpoch: 4,
};
const network = (seed: number) => createMlp({ inputShape: [4, 4, 3], classes: 3, hidden: [12], seed });
const run = (model: LayersModel, extra: Partial<FitOptions> & Pick<FitOptions, 'schedule'>) =>
  lastValueFrom(fit(model, { ...small, ...extra }).pipe(toArray()));
const steps = (events: TrainingEvent[]) => events.flatMap((e) => (e.type === 'batch' ? [[e.epoch, e.step, e.loss, e.learningRate]] : []));
const rows = (events: TrainingEvent[]) =>
  (events.at(-1) as Extract<TrainingEvent, { type: 'end' }>).history.map(({ seconds: _s, ...row }) => row);

describe('learning-rate schedules', () => {
  test('cosine warms up linearly to the peak, then falls to the final rate', () => {
    const cosine: LearningRateSchedule = { type: 'cosine', epochs: 10, peak: 0.1, warmupEpochs: 1, final: 0.001 };
    expect(learningRateAt(cosine, 1, 0, 10)).toBeCloseTo(0.01, 10);
    expect(learningRateAt(cosine, 1, 9, 10)).toBeCloseTo(0.1, 10);
    expect(learningRateAt(cosine, 2, 0, 10)).toBeCloseTo(0.1, 10);
    expect(learningRateAt(cosine, 6, 0, 10)).toBeCloseTo(0.001 + (0.099 * (1 + Math.cos((Math.PI * 40) / 89))) / 2, 10);
    expect(learningRateAt(cosine, 10, 9, 10)).toBeCloseTo(0.001, 10);
  });

  test('one-cycle starts at peak/25, reaches the peak after the warm-up fraction, ends near peak/10⁴', () => {
    const cycle: LearningRateSchedule = { type: 'oneCycle', epochs: 10, peak: 0.5 };
    expect(learningRateAt(cycle, 1, 0, 10)).toBeCloseTo(0.02, 10);
    expect(learningRateAt(cycle, 4, 0, 10)).toBeCloseTo(0.5, 10);
    expect(learningRateAt(cycle, 10, 9, 10)).toBeCloseTo(0.5e-4, 10);
    const linear: LearningRateSchedule = { type: 'linear', epochs: 2, from: 0.1, to: 0.0, warmupEpochs: 0 };
    expect([0, 1, 2, 3].map((step) => learningRateAt(linear, 1 + Math.floor(step / 2), step % 2, 2))).toEqual(
      [0.1, 0.1 * (2 / 3), 0.1 / 3, 0].map((rate) => expect.closeTo(rate, 10)),
    );
  });

  test("triangle is airbench's LambdaLR: 0.2·peak up to the peak over the first 23% of steps, then down towards 0.07·peak", () => {
    // airbench94: 476 steps, warm-up int(476 · 0.23) = 109 steps; get_lr(step) as its source writes it.
    const airbench = (step: number) =>
      step < 109 ? 0.2 * (1 - step / 109) + step / 109 : 1 - (step - 109) / 367 + (0.07 * (step - 109)) / 367;
    const triangle: LearningRateSchedule = { type: 'triangle', epochs: 7, peak: 1.5 };
    for (const t of [0, 1, 54, 108, 109, 110, 300, 475])
      expect(learningRateAt(triangle, 1 + Math.floor(t / 68), t % 68, 68), `step ${t}`).toBeCloseTo(1.5 * airbench(t), 10);
    expect(() => checkSchedule({ type: 'triangle', epochs: 2, peak: 1, warmupFraction: 1 })).toThrow(
      'schedule triangle: warmupFraction must be in (0, 1), got 1',
    );
  });

  test('fit uses the rate of each step and reports it; the epoch record has the last one', async () => {
    const schedule: LearningRateSchedule = { type: 'cosine', epochs: 2, peak: 0.05, warmupEpochs: 1 };
    const events = await run(network(1), { schedule, optimizer: { type: 'sgd', momentum: 0.9 } });
    const rates = steps(events).map(([, , , rate]) => rate);
    expect(rates).toEqual(Array.from({ length: 8 }, (_, t) => learningRateAt(schedule, 1 + Math.floor(t / 4), t % 4, 4)));
    expect(rows(events).map((row) => row.learningRate)).toEqual([rates[3], rates[7]]);
    expect(rows(events).map((row) => row.phase)).toEqual([0, 0]);
  });

  test('a schedule that cannot run, or one that needs stepsPerEpoch without it, fails the stream in one line', async () => {
    await expect(run(network(1), { schedule: { type: 'cosine', epochs: 2, peak: 0.1, warmupEpochs: 2 } })).rejects.toThrow(
      'schedule cosine: warmupEpochs (2) must be fewer than epochs (2)',
    );
    await expect(run(network(1), { schedule: { type: 'oneCycle', epochs: 2, peak: -1 } })).rejects.toThrow(
      'schedule oneCycle: peak must be > 0, got -1',
    );
    // Batches from a plain function say nothing of their count: fit needs stepsPerEpoch.
    const plain = (epoch: number, skip: number) => small.trainBatches(epoch, skip);
    await expect(
      lastValueFrom(
        fit(network(1), {
          ...small,
          trainBatches: plain,
          stepsPerEpoch: undefined,
          schedule: { type: 'linear', epochs: 1, from: 0.1, to: 0 },
        }),
      ),
    ).rejects.toThrow('the linear schedule changes the rate at every step: fit needs stepsPerEpoch, got undefined');
  });

  test('batches from epochBatches tell fit their count: a per-step schedule needs no stepsPerEpoch', async () => {
    const schedule: LearningRateSchedule = { type: 'linear', epochs: 2, from: 0.1, to: 0 };
    const events = await run(network(1), { schedule, stepsPerEpoch: undefined });
    expect(small.trainBatches.stepsPerEpoch).toBe(4); // 128 images, batches of 32
    expect(steps(events).map(([, , , rate]) => rate)).toEqual(
      Array.from({ length: 8 }, (_, t) => learningRateAt(schedule, 1 + Math.floor(t / 4), t % 4, 4)),
    );
  });
});

describe('optimizers', () => {
  const specs: OptimizerSpec[] = [
    { type: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
    { type: 'adam' },
    { type: 'adamw', weightDecay: 0.05 },
  ];

  test.each(specs)('%o: its state lives across phases, and resuming mid-epoch gives the uninterrupted history', async (optimizer) => {
    const schedule = [
      { epochs: 1, learningRate: 0.01 },
      { epochs: 2, learningRate: 0.003 },
    ];
    const straight = await run(network(7), { schedule, optimizer });
    expect(rows(straight).at(-1)!.trainLoss).toBeLessThan(rows(straight)[0]!.trainLoss);

    const model = network(7);
    const stop = new Subject<void>();
    let saved:
      { position: TrainingPosition; history: readonly EpochRecord[]; weights: tf.Tensor[]; optimizer: OptimizerWeights } | undefined;
    const before = tf.memory().numTensors;
    const first = await lastValueFrom(
      fit(model, {
        ...small,
        schedule,
        optimizer,
        stop,
        checkpoint: async (state) => {
          if (state.reason === 'stop')
            saved = {
              position: state.position,
              history: state.history,
              weights: model.getWeights().map((w) => w.clone()),
              optimizer: await state.optimizer.getWeights(),
            };
        },
      }).pipe(
        tap((e) => e.type === 'batch' && e.epoch === 2 && e.step === 2 && stop.next()),
        toArray(),
      ),
    );
    expect(first.at(-1)).toMatchObject({ type: 'stopped', position: { epoch: 2, step: 2 } });
    expect(saved!.optimizer.find((w) => w.name === 'iter')?.tensor.dataSync()[0]).toBe(6); // 4 steps of phase 1, 2 of phase 2: one optimizer
    expect(tf.memory().numTensors).toBe(before + saved!.weights.length + saved!.optimizer.length); // what we kept, nothing else
    model.dispose();

    const resumed = network(99);
    resumed.setWeights(saved!.weights);
    const rest = await run(resumed, {
      schedule,
      optimizer,
      resume: { position: saved!.position, history: saved!.history, optimizerWeights: saved!.optimizer },
    });
    expect(rows(rest)).toEqual(rows(straight));
    expect(steps([...first, ...rest])).toEqual(steps(straight));
    tf.dispose([...saved!.weights, ...saved!.optimizer.map((w) => w.tensor)]);
    resumed.dispose();
  });

  test('weight decay: AdamW shrinks weights by rate·decay before its step; SGD adds decay·w to the gradient', async () => {
    const w = tf.variable(tf.tensor1d([1, -2, 4]), true, 'decayed');
    const zeroLoss = () => tf.sum(tf.mul(w, 0)) as tf.Scalar;
    const adamw = new TrainingOptimizer({ type: 'adamw', weightDecay: 0.1 }, 0.5);
    adamw.minimize(zeroLoss);
    expect(Array.from(w.dataSync())).toEqual([0.95, -1.9, 3.8].map((v) => expect.closeTo(v, 6)));
    const sgd = new TrainingOptimizer({ type: 'sgd', weightDecay: 0.1 }, 0.5);
    sgd.minimize(zeroLoss);
    expect(Array.from(w.dataSync())).toEqual([0.95 * 0.95, -1.9 * 0.95, 3.8 * 0.95].map((v) => expect.closeTo(v, 6)));
    for (const o of [adamw, sgd, w]) o.dispose();
  });

  test('a spec no optimizer can be made from is refused in one line', () => {
    expect(() => new TrainingOptimizer({ type: 'sgd', momentum: 1 }, 0.1)).toThrow('optimizer sgd: momentum must be in [0, 1), got 1');
    expect(() => new TrainingOptimizer({ type: 'sgd', nesterov: true }, 0.1)).toThrow('optimizer sgd: nesterov needs a momentum above 0');
    expect(() => new TrainingOptimizer({ type: 'adamw', weightDecay: -1 }, 0.1)).toThrow(
      'optimizer adamw: weightDecay must be ≥ 0, got -1',
    );
    expect(() => new TrainingOptimizer({ type: 'rmsprop' } as never, 0.1)).toThrow(
      'optimizer type must be sgd, adam or adamw, got rmsprop',
    );
  });
});

describe('losses', () => {
  test('label smoothing moves target mass onto every class', () => {
    const logits = tf.tensor2d([[2, 0, -1]]);
    const targets = tf.tensor2d([[1, 0, 0]]);
    const logSoftmax = Array.from(tf.logSoftmax(logits).dataSync());
    const smoothed = [1 - 0.3 + 0.1, 0.1, 0.1];
    expect(softmaxCrossEntropy({ labelSmoothing: 0.3 })(targets, logits).dataSync()[0]).toBeCloseTo(
      -smoothed.reduce((sum, t, i) => sum + t * logSoftmax[i]!, 0),
      5,
    );
    expect(softmaxCrossEntropy()(targets, logits).dataSync()[0]).toBeCloseTo(-logSoftmax[0]!, 5);
    expect(() => softmaxCrossEntropy({ labelSmoothing: 1 })).toThrow('labelSmoothing must be in [0, 1), got 1');
  });

  test('fit trains on the loss it is given', async () => {
    const squaredError = (targets: tf.Tensor, logits: tf.Tensor) => tf.mean(tf.square(tf.sub(tf.softmax(logits), targets))) as tf.Scalar;
    const events = await run(network(3), { schedule: [{ epochs: 1, learningRate: 0.5 }], loss: squaredError });
    const batchLosses = steps(events).map(([, , loss]) => loss as number);
    expect(batchLosses.every((loss) => loss > 0 && loss < 0.25)).toBe(true); // a mean squared difference of probabilities, not a cross-entropy (≈ 1.1 at the start)
    expect(events.filter((e) => e.type === 'batch')).toHaveLength(4);
  });

  test('validation and evaluate take a loss of their own; the default stays plain cross-entropy', async () => {
    const squaredError = (targets: tf.Tensor, logits: tf.Tensor) =>
      tf.mean(tf.sum(tf.square(tf.sub(tf.softmax(logits), targets)), -1)) as tf.Scalar;
    const net = network(3);
    const [plain, squared] = await Promise.all([
      lastValueFrom(evaluate(net, small.validationBatches())),
      lastValueFrom(evaluate(net, small.validationBatches(), {}, squaredError)),
    ]);
    // The squared error of every validation image, summed by hand: what evaluate must average.
    const { xs, ys } = await lastValueFrom(small.validationBatches().pipe(concatMap((pending) => pending)));
    const probabilities = tf.softmax(net.predict(xs) as tf.Tensor);
    const expected = (await tf.mean(tf.sum(tf.square(tf.sub(probabilities, tf.oneHot(ys as tf.Tensor1D, 3))), -1)).data())[0]!;
    expect(squared.loss).toBeCloseTo(expected, 5);
    expect(plain.loss).not.toBeCloseTo(squared.loss, 2);
    const records = rows(await run(net, { schedule: [{ epochs: 1, learningRate: 1e-12 }], validationLoss: squaredError })); // a rate that moves nothing
    expect(records[0]!.valLoss).toBeCloseTo(expected, 5);
    tf.dispose([xs, ys, probabilities]);
    net.dispose();
  });
});

describe('validation metrics', () => {
  test('extra metrics, operators of @rxvision/metrics, land in each epoch record by name', async () => {
    const model = network(5);
    const events = await run(model, {
      schedule: [{ epochs: 2, learningRate: 0.05 }],
      metrics: { top2: topKAccuracy(2), top3: topKAccuracy(3) },
    });
    for (const row of rows(events)) {
      expect(row.metrics!.top2).toBeGreaterThanOrEqual(row.valAccuracy);
      expect(row.metrics!.top2).toBeLessThan(1);
      expect(row.metrics!.top3).toBe(1); // three classes
    }
    const evaluation = await lastValueFrom(evaluate(model, small.validationBatches(), { top1: topKAccuracy(1) }));
    expect(evaluation.metrics.top1).toBe(evaluation.accuracy);
    expect((await lastValueFrom(evaluate(model, small.validationBatches()))).metrics).toEqual({});
    expect(rows(await run(model, { schedule: [{ epochs: 1, learningRate: 0.05 }] }))[0]).not.toHaveProperty('metrics');
    model.dispose();
  });
});

describe('more classes than a byte holds', () => {
  test('300 classes train and evaluate: labels above 255 reach the loss and the metrics intact', async () => {
    const classes = 300;
    const rows = 600;
    const labels = labelArray(classes, rows);
    const pixels = new Uint8Array(rows * 4);
    // Class c is the grey level pattern of c's digits: learnable, and half the labels are above 255.
    for (let r = 0; r < rows; r++) {
      const label = (r * 7) % classes;
      labels[r] = label;
      pixels.set([label & 0xff, label >> 8, (label * 37) & 0xff, 128], r * 4);
    }
    const names = Array.from({ length: classes }, (_, c) => `c${c}`);
    const data = ImageDataset.fromArrays({ classes: names, shape: [2, 2, 1], pixels, labels }, 'wide');
    const model = createMlp({ inputShape: [2, 2, 1], classes, hidden: [64], seed: 1 });
    const events = await lastValueFrom(
      fit(model, {
        schedule: [{ epochs: 1, learningRate: 0.01 }],
        optimizer: { type: 'adam' },
        trainBatches: epochBatches(data, { batchSize: 100, seed: 1 }),
        validationBatches: () => epochBatches(data, { batchSize: 200 })(0),
      }).pipe(toArray()),
    );
    expect(events.at(-1)!.type).toBe('end');
    expect(Number.isFinite((events.at(-1) as Extract<TrainingEvent, { type: 'end' }>).history[0]!.valLoss)).toBe(true);
    const tested = await lastValueFrom(evaluate(model, epochBatches(data, { batchSize: 200 })(0)));
    expect(tested.confusion.classes).toBe(classes);
    expect(Array.from(tested.confusion.counts).reduce((a, b) => a + b, 0)).toBe(rows);
    // Row 299's true label sits in confusion row 299: every label was counted where it belongs.
    const perLabel = Array.from({ length: classes }, (_, c) =>
      tested.confusion.counts.subarray(c * classes, (c + 1) * classes).reduce((a, b) => a + b, 0),
    );
    expect(perLabel).toEqual(Array.from({ length: classes }, (_, c) => Array.from(labels).filter((label) => label === c).length));
    model.dispose();
  });
});
