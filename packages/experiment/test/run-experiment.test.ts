import '@tensorflow/tfjs-backend-cpu';
import { access, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimFolder, FolderHeldError } from '@rxvision/folder';
import { RUN_FILES } from '@rxvision/run-folder';
import { loadClassifier } from '@rxvision/train/node';
import * as tf from '@tensorflow/tfjs-core';
import { filter, firstValueFrom, lastValueFrom, Subject, take, tap, toArray } from 'rxjs';
import { writeBandsDataset } from './bands-fixture.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Experiment, parseExperiment, resumeExperiment, type RunEvent, runExperiment } from '../src/index.js';

let dir: string;
let experiment: Experiment;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'rxvision-run-'));
  await writeBandsDataset(dir);
  experiment = parseExperiment(
    {
      dataset: { type: 'arrow', train: 'train.arrow', test: 'test.arrow' },
      validation: 40,
      batchSize: 20,
      model: { type: 'mlp', hidden: [8] },
      optimizer: { type: 'sgd', momentum: 0.9 },
      schedule: [{ epochs: 3, learningRate: 0.1 }],
    },
    'bands',
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );
/** Events without their wall times, to compare runs. */
const comparable = (events: RunEvent[]) =>
  JSON.parse(
    JSON.stringify(
      events.filter((e) => e.type === 'batch' || e.type === 'epoch' || e.type === 'end'),
      (key, value) => (key === 'seconds' ? undefined : value),
    ),
  );

describe('runExperiment', () => {
  let whole: RunEvent[];

  test('one Observable: start, fit’s events, finish; the run folder holds every file, and no claim once it completes', async () => {
    const folder = join(dir, 'whole');
    whole = await lastValueFrom(runExperiment(experiment, { folder, baseDir: dir, source: 'bands' }).pipe(toArray()));
    const types = whole.map((e) => e.type).filter((type, i, all) => type !== all[i - 1]);
    expect(types).toEqual(['start', 'batch', 'epoch', 'batch', 'epoch', 'batch', 'epoch', 'end', 'finish']);
    expect(whole[0]).toMatchObject({ type: 'start', folder, stepsPerEpoch: 8, epochs: 3, backend: { backend: 'cpu' } });
    expect((await readdir(folder)).sort()).toEqual(
      Object.values(RUN_FILES)
        .filter((file) => file !== RUN_FILES.failure)
        .sort(),
    );
    // progress.json: where the run got, with its per-step loss and learning rate.
    const progress = JSON.parse(await readFile(join(folder, RUN_FILES.progress), 'utf8'));
    expect(progress).toMatchObject({ epochs: 3, stepsPerEpoch: 8, steps: { stride: 1 } });
    expect(progress.steps.step[0]).toBe(1);
    expect(progress.steps.step.at(-1)).toBe(24); // written whole when the run ended: 3 epochs of 8 steps
    expect(progress.steps.learningRate[0]).toBe(0.1);
    expect(progress.steps.loss[0]).toBe((whole.find((e) => e.type === 'batch') as { loss: number }).loss);
    const history = JSON.parse(await readFile(join(folder, RUN_FILES.history), 'utf8'));
    expect(history).toEqual(whole.flatMap((e) => (e.type === 'epoch' ? [e.record] : [])));
    const finish = whole.at(-1) as Extract<RunEvent, { type: 'finish' }>;
    expect(JSON.parse(await readFile(join(folder, RUN_FILES.summary), 'utf8'))).toEqual(
      JSON.parse(JSON.stringify({ format: 1, ...finish.summary })),
    );
    expect(finish.summary).toMatchObject({
      experiment: 'bands',
      split: { train: 160, validation: 40, test: 40 },
      backend: { name: 'cpu', gpu: false },
    });
    expect(finish.test!.accuracy).toBeGreaterThan(0.9);
    // Stored with absolute paths: the run can be resumed or evaluated from anywhere.
    expect(JSON.parse(await readFile(join(folder, RUN_FILES.experiment), 'utf8')).dataset).toEqual({
      type: 'arrow',
      train: join(dir, 'train.arrow'),
      test: join(dir, 'test.arrow'),
    });
    const classifier = await loadClassifier(join(folder, RUN_FILES.model));
    expect([classifier.classes, classifier.imageShape]).toEqual([
      ['top', 'bottom'],
      [4, 4, 1],
    ]);
    classifier.model.dispose();
  });

  test('stop: the step ends, a checkpoint is written, `stopped` is the last event; resumeExperiment goes on as if it never stopped, holding no more tensors', async () => {
    const folder = join(dir, 'stopped');
    const stop = new Subject<void>();
    const tensorsAtEpochs: number[] = [];
    const countTensors = tap((e: RunEvent) => e.type === 'epoch' && tensorsAtEpochs.push(tf.memory().numTensors));
    const first = await lastValueFrom(
      runExperiment(experiment, { folder, baseDir: dir, source: 'bands', stop }).pipe(
        countTensors,
        tap((e) => e.type === 'batch' && e.epoch === 2 && e.step === 3 && stop.next()),
        toArray(),
      ),
    );
    expect(first.at(-1)).toMatchObject({ type: 'stopped', position: { epoch: 2, step: 3 } });
    expect(await exists(join(folder, RUN_FILES.summary))).toBe(false);
    const second = await lastValueFrom(resumeExperiment({ folder }).pipe(countTensors, toArray()));
    // The checkpoint's optimizer state, once fit has it, is not held beside it.
    expect(tensorsAtEpochs).toEqual([tensorsAtEpochs[0], tensorsAtEpochs[0], tensorsAtEpochs[0]]);
    expect(second[0]).toMatchObject({ type: 'start', resumedAt: { epoch: 2, step: 3 }, config: { source: 'bands' } });
    expect(comparable([...first, ...second])).toEqual(comparable(whole));
    expect(JSON.parse(await readFile(join(folder, RUN_FILES.history), 'utf8')).map((r: { valLoss: number }) => r.valLoss)).toEqual(
      whole.flatMap((e) => (e.type === 'epoch' ? [e.record.valLoss] : [])),
    );
  });

  test('unsubscribing stops training and releases the folder; nothing more is written', async () => {
    const folder = join(dir, 'unsubscribed');
    await firstValueFrom(
      runExperiment(experiment, { folder, baseDir: dir }).pipe(
        filter((e) => e.type === 'batch' && e.epoch === 2),
        take(1),
      ),
    );
    // The release is asynchronous: another writer gets the folder as soon as it is done.
    let claim;
    for (let tries = 0; !claim && tries < 100; tries++)
      claim = await claimFolder(folder, { purpose: 'test' }).catch(() =>
        new Promise((resolve) => setTimeout(resolve, 20)).then(() => undefined),
      );
    expect(claim).toBeDefined();
    await claim!.release();
    expect(await exists(join(folder, RUN_FILES.summary))).toBe(false);
    expect(JSON.parse(await readFile(join(folder, RUN_FILES.history), 'utf8'))).toHaveLength(1);
  });

  test('a folder another writer holds is refused with FolderHeldError, before anything is written into it', async () => {
    const folder = join(dir, 'held');
    const claim = await claimFolder(folder, { purpose: 'someone else' });
    try {
      await expect(lastValueFrom(runExperiment(experiment, { folder, baseDir: dir }))).rejects.toBeInstanceOf(FolderHeldError);
      expect((await readdir(folder)).filter((name) => !name.startsWith('writer.lock'))).toEqual([]);
    } finally {
      await claim.release();
    }
  });

  test('a run that fails says why in failure.json (gone once it starts again), and keeps its last checkpoint', async () => {
    const folder = join(dir, 'diverging');
    const diverging = parseExperiment(
      {
        ...experiment,
        model: { type: 'mlp', hidden: [8] },
        schedule: [
          { epochs: 1, learningRate: 0.1 },
          { epochs: 1, learningRate: 1e38 },
        ],
      },
      'diverging.json',
    );
    const error = (await lastValueFrom(runExperiment(diverging, { folder, baseDir: dir })).then(
      () => new Error('no failure'),
      (e: unknown) => e,
    )) as Error;
    expect(error.message).toMatch(/^the training loss became (NaN|Infinity|-Infinity) at epoch 2, step \d+/);
    expect(JSON.parse(await readFile(join(folder, RUN_FILES.failure), 'utf8'))).toMatchObject({ message: error.message });
    await lastValueFrom(resumeExperiment({ folder }).pipe(take(1))); // started again: the failure is history
    expect(await exists(join(folder, RUN_FILES.failure))).toBe(false);
  });

  test('precision goes to the backend; one that computes in another is refused in one line, the folder as it was, and the summary records bfloat16', async () => {
    const bf16 = parseExperiment({ ...experiment, precision: 'bfloat16' }, 'bf16.json');
    const asked: unknown[] = [];
    const folder = join(dir, 'float32-only');
    const ignoring = async (_probe: () => void, settings: unknown) => {
      asked.push(settings);
      return { backend: 'cpu', package: '@tensorflow/tfjs-backend-cpu' };
    };
    await expect(lastValueFrom(runExperiment(bf16, { folder, baseDir: dir, source: 'bf16.json', backend: ignoring }))).rejects.toThrow(
      /^bf16\.json: precision: bfloat16, but the backend cpu computes in float32$/,
    );
    expect(asked).toEqual([{ precision: 'bfloat16' }]);
    expect(await exists(folder)).toBe(false); // as it was: never made

    // A backend that says it computes in bfloat16 (cpu stands in: the oneDNN kernels are the backend's, tested there).
    const taking = async () => ({ backend: 'cpu', package: '@tensorflow/tfjs-backend-cpu', precision: 'bfloat16' as const });
    const run = join(dir, 'bf16');
    await lastValueFrom(runExperiment(bf16, { folder: run, baseDir: dir, source: 'bf16.json', backend: taking }));
    const summary = JSON.parse(await readFile(join(run, RUN_FILES.summary), 'utf8')) as { backend: object };
    expect(summary.backend).toMatchObject({ name: 'cpu', precision: 'bfloat16' });
    expect(JSON.parse(await readFile(join(run, RUN_FILES.experiment), 'utf8'))).toMatchObject({ precision: 'bfloat16' });
  });

  test('an experiment that cannot be composed makes no run folder; resuming a folder without a checkpoint says so', async () => {
    const folder = join(dir, 'never');
    await expect(
      lastValueFrom(runExperiment({ ...experiment, batchSize: 500 }, { folder, baseDir: dir, source: 'big.json' })),
    ).rejects.toThrow('big.json: batchSize: 500 is larger than the training split (160 images)');
    expect(await exists(folder)).toBe(false);
    await expect(lastValueFrom(resumeExperiment({ folder }))).rejects.toThrow(
      `${folder}: no checkpoint to resume from (expected ${join(folder, 'checkpoint', 'checkpoint.json')})`,
    );
  });
});
