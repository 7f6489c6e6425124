import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CHECKPOINT_FORMAT } from '@rxvision/train/node';
import { type CliRun, runCli, runCliInterrupted } from './run-cli.js';
import { writeSmallCifar } from './small-cifar-fixture.js';

// 2,500 images: 18 steps an epoch on wasm, long enough to be interrupted inside one.
const LIMIT = 2500;
const settings = ['--schedule', '2@0.05,1@0.01', '--limit', String(LIMIT), '--backend', 'wasm'];
let dir: string;
let data: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-resume-'));
  // CIFAR-10's shape and classes, made here: resuming needs no real CIFAR-10.
  data = await writeSmallCifar(join(dir, 'data'), { train: LIMIT, test: 500 });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A training run stopped by `signal` inside its second epoch (`times` signals). */
const interruptedRun = (out: string, signal: NodeJS.Signals, times = 1): Promise<CliRun> =>
  runCliInterrupted(['train', '--data', data, '--out', out, ...settings], { signal, times });

const withoutSeconds = (history: Array<Record<string, unknown>>) => history.map(({ seconds: _seconds, ...row }) => row);

/** A batch-norm CNN on the CIFAR-shaped data, 64 a batch: what the onednn resume tests train. */
const CNN_RUN = {
  limit: LIMIT,
  validation: 0.1,
  batchSize: 64,
  model: { type: 'cnn', blocks: [8, 16], batchNorm: true },
};

/**
 * `experiment` trained on onednn twice, as NAME-straight and as NAME-interrupted: the second
 * stopped by Ctrl-C inside an epoch (exit 130), then resumed in another process. Each run's history
 * and summary, and where the checkpoint stood.
 */
async function straightAndResumed(name: string, experiment: Record<string, unknown>) {
  const config = join(dir, `${name}.json`);
  await writeFile(config, JSON.stringify({ dataset: { type: 'cifar10', dataDir: data }, ...experiment }));
  const onednn = ['--backend', 'onednn'];
  const [straight, run] = [join(dir, `${name}-straight`), join(dir, `${name}-interrupted`)];
  const reference = await runCli(['train', '--config', config, '--out', straight, ...onednn]);
  expect(reference.code, reference.stderr).toBe(0);
  const first = await runCliInterrupted(['train', '--config', config, '--out', run, ...onednn]);
  expect(first.code, first.stderr).toBe(130);
  const read = async (folder: string, file: string) => JSON.parse(await readFile(join(folder, file), 'utf8'));
  const { position } = await read(join(run, 'checkpoint'), 'checkpoint.json');
  const second = await runCli(['train', '--resume', run, ...onednn]);
  expect(second.code, second.stderr).toBe(0);
  const files = async (folder: string) => ({ history: await read(folder, 'history.json'), summary: await read(folder, 'summary.json') });
  return { straight: await files(straight), resumed: await files(run), position };
}

describe('interrupt and resume', () => {
  test('Ctrl-C mid-epoch checkpoints and exits 130; --resume then gives the uninterrupted history', async () => {
    const straight = join(dir, 'straight');
    const reference = await runCli(['train', '--data', data, '--out', straight, ...settings]);
    expect(reference.code, reference.stderr).toBe(0);

    const run = join(dir, 'interrupted');
    const first = await interruptedRun(run, 'SIGINT');
    expect(first.code, first.stderr).toBe(130);
    expect(first.stderr).toContain('SIGINT: stopping after the current step and writing a checkpoint');
    expect(first.stderr).toContain(`continue with rxvision train --resume ${run}`);
    const checkpoint = JSON.parse(await readFile(join(run, 'checkpoint', 'checkpoint.json'), 'utf8'));
    expect(checkpoint.position.epoch).toBe(2);
    expect(checkpoint.position.step).toBeGreaterThan(0); // stopped inside epoch 2
    expect(checkpoint.config.experiment).toMatchObject({
      dataset: { type: 'cifar10', dataDir: data },
      limit: LIMIT,
      validation: 0.1,
      model: { type: 'tutorial' },
    });
    // A checkpoint written before experiment files (format 1: the tutorial's settings) resumes too.
    const legacy = join(dir, 'legacy');
    await cp(run, legacy, { recursive: true });
    const legacyFile = join(legacy, 'checkpoint', 'checkpoint.json');
    const tutorialConfig = {
      data,
      schedule: [
        { epochs: 2, learningRate: 0.05 },
        { epochs: 1, learningRate: 0.01 },
      ],
      batchSize: 128,
      seed: 43,
      outputRelu: true,
      limit: LIMIT,
    };
    await writeFile(legacyFile, JSON.stringify({ ...checkpoint, format: 1, config: tutorialConfig }));

    const second = await runCli(['train', '--resume', run, '--backend', 'wasm']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/resuming .* at epoch 2, step \d+/);
    const expected = JSON.parse(await readFile(join(straight, 'history.json'), 'utf8'));
    const resumed = JSON.parse(await readFile(join(run, 'history.json'), 'utf8'));
    expect(withoutSeconds(resumed)).toEqual(withoutSeconds(expected));
    const third = await runCli(['train', '--resume', legacy, '--backend', 'wasm']);
    expect(third.code, third.stderr).toBe(0);
    expect(withoutSeconds(JSON.parse(await readFile(join(legacy, 'history.json'), 'utf8')))).toEqual(withoutSeconds(expected));
  }, 600_000);

  test('AdamW with batch norm, one-cycle and keepBest on onednn: Ctrl-C, then --resume in another process, gives the same history and test figures', async () => {
    // The new user's case (#34), on CIFAR-10's shape: Adam's bias-correction powers go back as they were.
    const { straight, resumed, position } = await straightAndResumed('adamw', {
      ...CNN_RUN,
      optimizer: { type: 'adamw', weightDecay: 0.05 },
      schedule: { type: 'oneCycle', epochs: 3, peak: 0.005 },
      keepBest: true,
    });
    expect(position).toMatchObject({ epoch: 2, step: expect.any(Number) });
    expect(withoutSeconds(resumed.history)).toEqual(withoutSeconds(straight.history));
    expect(resumed.summary.test).toEqual(straight.summary.test);
    expect(resumed.summary.test).toMatchObject({ accuracy: expect.any(Number), loss: expect.any(Number) });
  }, 600_000);

  test("the practitioner's parts (plateau schedule, TrivialAugment, RandAugment, mixup, balanced sampler and weights, clipping, accumulation, EMA with keepBest): Ctrl-C, then --resume in another process, gives the same history", async () => {
    const { straight, resumed, position } = await straightAndResumed('kit', {
      ...CNN_RUN,
      augment: [{ type: 'horizontalFlip' }, { type: 'trivialAugment' }, { type: 'randAugment', ops: 1 }, { type: 'mixup', alpha: 0.4 }],
      sampler: 'balanced',
      classWeights: 'balanced',
      optimizer: { type: 'sgd', momentum: 0.9, maxGradientNorm: 1 },
      // patience 0 and a threshold no epoch meets: the rate falls before epochs 3 and 4.
      schedule: { type: 'plateau', epochs: 4, learningRate: 0.05, factor: 0.5, patience: 0, threshold: 0.9 },
      accumulateBatches: 2,
      ema: { decay: 0.9 },
      keepBest: true,
    });
    expect(straight.history.map((row: { learningRate: number }) => row.learningRate)).toEqual([0.05, 0.05, 0.025, 0.0125]);
    expect(position.step).toBeGreaterThan(0); // inside an epoch
    expect(withoutSeconds(resumed.history)).toEqual(withoutSeconds(straight.history));
    expect(resumed.summary.test).toEqual(straight.summary.test);
  }, 600_000);

  test('SIGTERM exits 143 with a checkpoint', async () => {
    const run = join(dir, 'terminated');
    const result = await interruptedRun(run, 'SIGTERM');
    expect(result.code, result.stderr).toBe(143);
    expect(JSON.parse(await readFile(join(run, 'checkpoint', 'checkpoint.json'), 'utf8')).position.epoch).toBeGreaterThanOrEqual(2);
  }, 600_000);

  test('a second Ctrl-C exits at once; the checkpoint of the last epoch stays intact', async () => {
    const run = join(dir, 'twice');
    const result = await interruptedRun(run, 'SIGINT', 2);
    expect(result.code).toBe(130);
    const checkpoint = JSON.parse(await readFile(join(run, 'checkpoint', 'checkpoint.json'), 'utf8'));
    expect(checkpoint.position.epoch).toBeGreaterThanOrEqual(2);
    expect(checkpoint.history).toHaveLength(checkpoint.position.epoch - 1); // completed epochs only
  }, 600_000);

  test('a checkpoint in a newer format, or from a different model, is refused with one line', async () => {
    const run = join(dir, 'interrupted');
    const newer = join(dir, 'newer');
    await cp(run, newer, { recursive: true });
    const file = join(newer, 'checkpoint', 'checkpoint.json');
    await writeFile(file, JSON.stringify({ ...JSON.parse(await readFile(file, 'utf8')), format: CHECKPOINT_FORMAT + 1 }));
    let result = await runCli(['train', '--resume', newer, '--backend', 'wasm']);
    expect([result.code, result.stderr.trim()]).toEqual([
      1,
      `rxvision: ${file}: written in checkpoint format ${CHECKPOINT_FORMAT + 1}, newer than this rxvision reads (${CHECKPOINT_FORMAT}); upgrade rxvision`,
    ]);

    const other = join(dir, 'other');
    await cp(run, other, { recursive: true });
    const modelJson = join(other, 'checkpoint', 'model', 'model.json');
    const model = JSON.parse(await readFile(modelJson, 'utf8'));
    // Another network: the first dense layer has 100 units instead of 1650.
    model.modelTopology.config.layers[1].config.units = 100;
    model.weightsManifest[0].weights[0].shape = [3072, 100];
    model.weightsManifest[0].weights[1].shape = [100];
    await writeFile(modelJson, JSON.stringify(model));
    result = await runCli(['train', '--resume', other, '--backend', 'wasm']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/rxvision: .*checkpoint.*(is from a different model|cannot be loaded)/);
  }, 600_000);

  test('a loss that overflows stops the run with epoch and step, keeping the last good checkpoint', async () => {
    const run = join(dir, 'overflow');
    // Plain logits and an absurd learning rate in the second phase: the weights overflow float32.
    const result = await runCli([
      'train',
      '--data',
      data,
      '--out',
      run,
      '--schedule',
      '1@0.05,1@1e38',
      '--no-output-relu',
      '--limit',
      '1280',
      '--backend',
      'wasm',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(
      /^rxvision: the training loss became (NaN|Infinity|-Infinity) at epoch 2, step \d+; stopped \(lower the learning rate\?\)$/,
    );
    const checkpoint = JSON.parse(await readFile(join(run, 'checkpoint', 'checkpoint.json'), 'utf8'));
    expect(checkpoint.position).toMatchObject({ epoch: 2, step: 0 });
    expect(checkpoint.history).toHaveLength(1);
  }, 600_000);

  test('--resume of a folder without a checkpoint says so', async () => {
    const result = await runCli(['train', '--resume', join(dir, 'nothing-here')]);
    expect([result.code, result.stderr.trim()]).toEqual([
      1,
      `rxvision: ${join(dir, 'nothing-here')}: no checkpoint to resume from (expected ${join(dir, 'nothing-here', 'checkpoint', 'checkpoint.json')})`,
    ]);
  });
});
