import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLAIM_FILE, claimFolder } from '@rxvision/folder';
import type { EpochRecord } from '@rxvision/metrics';
import { expect, test } from 'vitest';
import { ClaimedRunFolder, RUN_FILES, RunFolder, type RunSummary, statusOf, SUMMARY_FORMAT } from '../src/index.js';

const record = (epoch: number): EpochRecord => ({
  epoch,
  phase: 0,
  learningRate: 0.1,
  trainLoss: 1 / epoch,
  valLoss: 1 / epoch,
  valAccuracy: 0.5,
  seconds: 1,
});
const summary: Omit<RunSummary, 'format'> = {
  experiment: 'x.json',
  architecture: 'mlp',
  parameters: 10,
  epochs: 2,
  batchSize: 8,
  seed: 1,
  split: { train: 8, validation: 2 },
  backend: { name: 'cpu', package: '@tensorflow/tfjs-backend-cpu', gpu: false },
  seconds: 3,
  trainingSeconds: 2,
};

test('a run written through its claim reads back typed, under the names RUN_FILES gives; the summary carries its format', async () => {
  const run = new RunFolder(await mkdtemp(join(tmpdir(), 'rxvision-run-')));
  expect([await run.readHistory(), await run.readSummary(), await run.readExperiment(), await run.status()]).toEqual([
    [],
    undefined,
    undefined,
    'unfinished',
  ]);
  const claimed = new ClaimedRunFolder(await claimFolder(run.path, { purpose: 'train' }));
  await claimed.writeExperiment({ seed: 1 });
  await claimed.writeHistory([record(1), record(2)]);
  await claimed.writeSummary(summary);
  await claimed.claim.release();
  expect((await readdir(run.path)).sort()).toEqual([RUN_FILES.experiment, RUN_FILES.history, RUN_FILES.summary].sort());
  expect(await run.readHistory()).toEqual([record(1), record(2)]);
  expect(await run.readSummary()).toEqual({ format: SUMMARY_FORMAT, ...summary });
  expect(await run.readExperiment()).toEqual({ seed: 1 });
  expect(await run.status()).toBe('finished');
  expect(run.file('summary')).toBe(join(run.path, RUN_FILES.summary));
  expect(JSON.parse(await readFile(run.file('summary'), 'utf8')).format).toBe(SUMMARY_FORMAT);
});

test('a damaged file is an error naming it; a summary from a newer rxvision says so', async () => {
  const run = new RunFolder(await mkdtemp(join(tmpdir(), 'rxvision-run-')));
  await writeFile(run.file('history'), '[{"epoch": 1}, {"loss": 2}]');
  await expect(run.readHistory()).rejects.toThrow(`${run.file('history')}: record 1 has no epoch number`);
  await writeFile(run.file('history'), '[');
  await expect(run.readHistory()).rejects.toThrow(new RegExp(`^${run.file('history')}: is not JSON \\(`));
  await writeFile(run.file('summary'), JSON.stringify({ ...summary, format: SUMMARY_FORMAT + 1 }));
  await expect(run.readSummary()).rejects.toThrow(
    `${run.file('summary')}: written in summary format ${SUMMARY_FORMAT + 1}, newer than this rxvision reads (${SUMMARY_FORMAT}); upgrade rxvision`,
  );
});

test("a history's figures are not trusted: out of range, not finite or misnumbered is an error naming the epoch; null is a figure not measured (#34)", async () => {
  const run = new RunFolder(await mkdtemp(join(tmpdir(), 'rxvision-run-')));
  const record = (epoch: number, fields: Record<string, unknown> = {}) => ({
    epoch,
    phase: 0,
    learningRate: 0.1,
    trainLoss: 1,
    valLoss: 1.2,
    valAccuracy: 0.5,
    seconds: 3,
    ...fields,
  });
  const refused = async (history: unknown[], problem: string) => {
    await writeFile(run.file('history'), JSON.stringify(history));
    await expect(run.readHistory()).rejects.toThrow(`${run.file('history')}: ${problem}`);
  };
  await refused([record(1), record(2, { valAccuracy: 1e308 })], 'epoch 2: valAccuracy 1e+308 is outside [0, 1]');
  await refused([record(1, { trainLoss: -1 })], 'epoch 1: trainLoss -1 is outside [0, Infinity]');
  await refused([record(1, { valLoss: '0.3' })], 'epoch 1: valLoss is "0.3", not a finite number');
  await refused([record(1, { metrics: { top3Accuracy: 2 } })], 'epoch 1: metrics.top3Accuracy 2 is outside [0, 1]');
  await refused([record(1), record(3)], 'record 1 is epoch 3, not 2');
  await writeFile(run.file('history'), JSON.stringify([record(1), record(2)]).replace('"valAccuracy":0.5', '"valAccuracy":1e999'));
  await expect(run.readHistory()).rejects.toThrow('epoch 1: valAccuracy is Infinity, not a finite number'); // JSON.parse reads 1e999 so
  await writeFile(run.file('history'), JSON.stringify([record(1, { valLoss: null, valAccuracy: null })]));
  expect(await run.readHistory()).toEqual([record(1, { valLoss: null, valAccuracy: null })]);
});

test("a run's status, by the one rule: a summary wins, then a live writer, then a failure, then a checkpoint", () => {
  const none = { finished: false, held: false, failed: false, checkpointed: false };
  expect(statusOf(none)).toBe('unfinished');
  expect(statusOf({ ...none, checkpointed: true })).toBe('stopped');
  expect(statusOf({ ...none, failed: true, checkpointed: true })).toBe('failed');
  expect(statusOf({ ...none, held: true, failed: true, checkpointed: true })).toBe('running');
  expect(statusOf({ finished: true, held: true, failed: true, checkpointed: true })).toBe('finished');
});

test('a run folder says it from its files, from unfinished to finished, from unfinished to finished', async () => {
  const run = new RunFolder(join(await mkdtemp(join(tmpdir(), 'rxvision-run-status-')), 'run'));
  await mkdir(run.path);
  expect(await run.status()).toBe('unfinished');
  const claimed = new ClaimedRunFolder(await claimFolder(run.path, { purpose: 'train' }));
  expect(await run.status()).toBe('running');
  await claimed.writeHistory([record(1)]);
  await mkdir(run.file('checkpoint'));
  await claimed.claim.release();
  expect(await run.status()).toBe('stopped');
  const again = new ClaimedRunFolder(await claimFolder(run.path, { purpose: 'train' }));
  await again.writeFailure('loss became NaN');
  await again.claim.release();
  expect(await run.status()).toBe('failed');
  // A claim file that is none holds nothing; a damaged summary finishes nothing.
  await mkdir(join(run.path, CLAIM_FILE));
  await writeFile(run.file('summary'), '{"format": 1');
  expect(await run.status()).toBe('failed');
  // A caller that read the summary already says so, and is taken at its word.
  expect(await run.status(true)).toBe('finished');
  await writeFile(run.file('summary'), `${JSON.stringify({ format: SUMMARY_FORMAT, ...summary })}\n`);
  expect(await run.status()).toBe('finished');
});
