import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '@rxvision/backend/node';
import { createRandom, ImageDataset } from '@rxvision/dataset';
import { createCnn } from '@rxvision/model';
import { epochBatches, evaluationBatches } from '@rxvision/stream';
import { evaluate, fit, type FitOptions, type OptimizerSpec, type TrainingEvent } from '@rxvision/train';
import { loadCheckpoint, saveCheckpoint } from '@rxvision/train/node';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { lastValueFrom, Subject, tap, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

// The resume matrix: each optimizer, with and without batch norm, stopped mid-epoch and resumed
// from the files alone into a new model and optimizer, on wasm and on onednn: every event, the
// final weights and the test figures equal an uninterrupted run's, bit for bit. It stops 22 steps
// in, past where Adam's β2^t kept step by step and pow(β2, t) part in float32. (The same across
// processes, through the CLI: resume.integration.test.ts.)
const OPTIMIZERS: Record<string, OptimizerSpec> = {
  sgd: { type: 'sgd' },
  'sgd with nesterov momentum and decay': { type: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
  'adam with decay': { type: 'adam', weightDecay: 1e-4 },
  adamw: { type: 'adamw', weightDecay: 0.05 },
};

/** 8×8 RGB images of three classes; class c brightens channel c, with noise. */
function toyDataset(rows: number, seed: number): ImageDataset {
  const random = createRandom(seed);
  const pixels = new Uint8Array(rows * 192);
  const labels = Uint8Array.from({ length: rows }, () => random.nextInt(3));
  pixels.forEach((_, i) => (pixels[i] = (i % 3 === labels[Math.floor(i / 192)] ? 100 : 0) + random.nextInt(150)));
  return ImageDataset.fromArrays({ classes: ['red', 'green', 'blue'], shape: [8, 8, 3], pixels, labels }, 'toy');
}

/** Every event without its timings: what must match to the last bit. */
const figures = (events: TrainingEvent[]) =>
  events.map((event) =>
    event.type === 'epoch'
      ? { ...event.record, seconds: 0 }
      : event.type === 'end'
        ? { ...event, history: event.history.map((r) => ({ ...r, seconds: 0 })) }
        : event,
  );

let dir: string;
beforeAll(async () => void (dir = await mkdtemp(join(tmpdir(), 'rxvision-resume-matrix-'))));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe.each(['wasm', 'onednn'] as const)('resumed from files on %s: the uninterrupted run to the bit', (backend) => {
  beforeAll(async () => void (await selectBackend(backend, { threads: 2 })));

  test.each(Object.keys(OPTIMIZERS).flatMap((optimizer) => [false, true].map((batchNorm) => [optimizer, batchNorm] as const)))(
    '%s, batch norm %s',
    async (name, batchNorm) => {
      const model = (seed: number) => createCnn({ inputShape: [8, 8, 3], classes: 3, blocks: [6, 8], batchNorm, seed });
      const options: FitOptions = {
        schedule: { type: 'oneCycle', epochs: 3, peak: 0.02 },
        optimizer: OPTIMIZERS[name]!,
        trainBatches: epochBatches(toyDataset(150, 1), { batchSize: 16, seed: 7 }),
        validationBatches: evaluationBatches(toyDataset(40, 2), { batchSize: 20 }),
        keepBest: true,
      };
      const testFigures = async (net: LayersModel) =>
        lastValueFrom(evaluate(net, evaluationBatches(toyDataset(50, 3), { batchSize: 25 })()));

      const straight = model(5);
      const expected = await lastValueFrom(fit(straight, options).pipe(toArray()));

      const folder = join(dir, `${backend}-${name}-${batchNorm}`.replaceAll(' ', '-'));
      const first = model(5);
      const stop = new Subject<void>();
      const before = await lastValueFrom(
        fit(first, { ...options, stop, checkpoint: (state) => saveCheckpoint(folder, state, first) }).pipe(
          tap((event) => event.type === 'batch' && event.epoch === 3 && event.step === 2 && stop.next()),
          toArray(),
        ),
      );
      expect(before.at(-1)).toMatchObject({ type: 'stopped', position: { epoch: 3, step: 2 } });
      first.dispose();

      const resumed = model(99); // other weights: the checkpoint's replace them
      const { resume } = await loadCheckpoint(folder, resumed);
      const after = await lastValueFrom(fit(resumed, { ...options, resume }).pipe(toArray()));
      tf.dispose([...resume.optimizerWeights!.map((weight) => weight.tensor), ...(resume.best?.weights ?? [])]);
      expect(figures([...before.slice(0, -1), ...after])).toEqual(figures(expected));
      const weights = (net: LayersModel) => net.getWeights().map((weight) => Array.from(weight.dataSync()));
      expect(weights(resumed)).toEqual(weights(straight));
      expect(await testFigures(resumed)).toEqual(await testFigures(straight));
      [straight, resumed].forEach((net) => net.dispose());
    },
  );
});
