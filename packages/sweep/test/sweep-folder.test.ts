import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimFolder } from '@rxvision/folder';
import { RUN_FILES, SWEEP_FILES } from '@rxvision/run-folder';
import { expect, test } from 'vitest';
import { ClaimedSweepFolder, SweepFolder, type SweepRecord } from '../src/node/index.js';

const record: SweepRecord = {
  source: '/sweeps/lr.json',
  trials: [{ name: 'trial-000', settings: { learningRate: 0.1 }, epochs: 2 }],
  states: { 'trial-000': { state: 'failed', reason: 'loss became NaN' } },
};

test('a sweep folder written through its claim reads back: its record, its trials as files and as run folders', async () => {
  const path = await mkdtemp(join(tmpdir(), 'rxvision-sweep-folder-'));
  const folder = new SweepFolder(path);
  expect(await folder.readRecord()).toBeUndefined();
  const held = new ClaimedSweepFolder(await claimFolder(path, { purpose: 'sweep' }));
  await held.writeTrialExperiments([{ name: 'trial-000', experiment: { seed: 1 } }]);
  await held.writeRecord(record);
  await held.writeComparison(Uint8Array.of(137, 80, 78, 71));
  await held.claim.release();
  expect((await readdir(path)).sort()).toEqual([SWEEP_FILES.comparison, SWEEP_FILES.record, SWEEP_FILES.trials].sort());
  expect(await folder.readRecord()).toEqual(record);
  expect(JSON.parse(await readFile(folder.trialExperimentFile('trial-000'), 'utf8'))).toEqual({ seed: 1 });
  expect(folder.trial('trial-000').file('history')).toBe(join(path, 'trial-000', RUN_FILES.history));
  expect(folder.trialJob('trial-000')).toEqual({
    sweep: path,
    trial: 'trial-000',
    experiment: join(path, SWEEP_FILES.trials, 'trial-000.json'),
    runDir: join(path, 'trial-000'),
  });
  expect(await folder.trial('trial-000').status()).toBe('unfinished');
});

test('a folder whose record is not one (a sweep *file* called sweep.json, damaged JSON) is no sweep folder', async () => {
  const path = await mkdtemp(join(tmpdir(), 'rxvision-sweep-folder-'));
  const folder = new SweepFolder(path);
  await writeFile(folder.recordFile, JSON.stringify({ base: 'base.json', grid: { learningRate: [0.1] } }));
  expect(await folder.readRecord()).toBeUndefined();
  await writeFile(folder.recordFile, '{"trials": [');
  expect(await folder.readRecord()).toBeUndefined();
});
