import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimFolder } from '@rxvision/folder';
import type { EpochRecord } from '@rxvision/metrics';
import { expect, test } from 'vitest';
import { isFinished, readHistory, readRunExperiment, readSummary, RUN_FILES, runFile, type RunSummary, SUMMARY_FORMAT, writeHistory, writeRunExperiment, writeSummary } from '../src/index.js';

const record = (epoch: number): EpochRecord => ({ epoch, phase: 0, learningRate: 0.1, trainLoss: 1 / epoch, valLoss: 1 / epoch, valAccuracy: 0.5, seconds: 1 });
const summary: Omit<RunSummary, 'format'> = { experiment: 'x.json', architecture: 'mlp', parameters: 10, epochs: 2, batchSize: 8, seed: 1, split: { train: 8, validation: 2 }, backend: { name: 'cpu', package: '@tensorflow/tfjs-backend-cpu', gpu: false }, seconds: 3, trainingSeconds: 2 };

test('a run written through its claim reads back typed, under the names RUN_FILES gives; the summary carries its format', async () => {
  const run = await mkdtemp(join(tmpdir(), 'rxvision-run-'));
  expect([await readHistory(run), await readSummary(run), await readRunExperiment(run), await isFinished(run)]).toEqual([[], undefined, undefined, false]);
  const claim = await claimFolder(run, { purpose: 'train' });
  await writeRunExperiment(claim, { seed: 1 });
  await writeHistory(claim, [record(1), record(2)]);
  await writeSummary(claim, summary);
  await claim.release();
  expect((await readdir(run)).sort()).toEqual([RUN_FILES.experiment, RUN_FILES.history, RUN_FILES.summary].sort());
  expect(await readHistory(run)).toEqual([record(1), record(2)]);
  expect(await readSummary(run)).toEqual({ format: SUMMARY_FORMAT, ...summary });
  expect(await readRunExperiment(run)).toEqual({ seed: 1 });
  expect(await isFinished(run)).toBe(true);
  expect(JSON.parse(await readFile(runFile(run, 'summary'), 'utf8')).format).toBe(SUMMARY_FORMAT);
});

test('a damaged file is an error naming it; a summary from a newer rxvision says so', async () => {
  const run = await mkdtemp(join(tmpdir(), 'rxvision-run-'));
  await writeFile(runFile(run, 'history'), '[{"epoch": 1}, {"loss": 2}]');
  await expect(readHistory(run)).rejects.toThrow(`${runFile(run, 'history')}: record 1 has no epoch number`);
  await writeFile(runFile(run, 'history'), '[');
  await expect(readHistory(run)).rejects.toThrow(new RegExp(`^${runFile(run, 'history')}: is not JSON \\(`));
  await writeFile(runFile(run, 'summary'), JSON.stringify({ ...summary, format: SUMMARY_FORMAT + 1 }));
  await expect(readSummary(run)).rejects.toThrow(`${runFile(run, 'summary')}: written in summary format ${SUMMARY_FORMAT + 1}, newer than this rxvision reads (${SUMMARY_FORMAT}); upgrade rxvision`);
});
