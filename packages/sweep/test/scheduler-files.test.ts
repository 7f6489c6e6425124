import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SWEEP_FILES } from '@rxvision/run-folder';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sweepScheduler } from '../src/node/index.js';

// A trial's history.json edited by hand (#34): valAccuracy 1e308 made every later trial "stopped
// early at epoch 1". The scheduler reads the sweep's real files; a damaged trial is left out of its
// decisions, in one line naming it and the epoch.
let sweep: string;
const record = (epoch: number, valAccuracy: number) => ({
  epoch,
  phase: 0,
  learningRate: 0.1,
  trainLoss: 1,
  valLoss: 1,
  valAccuracy,
  seconds: 1,
});

async function writeTrial(name: string, history: unknown, finished: boolean): Promise<void> {
  await mkdir(join(sweep, name), { recursive: true });
  await writeFile(join(sweep, name, 'history.json'), JSON.stringify(history).replace('"valAccuracy":12345', '"valAccuracy":1e308'));
  if (finished) await writeFile(join(sweep, name, 'summary.json'), JSON.stringify({ seconds: 1 }));
}

beforeAll(async () => {
  sweep = await mkdtemp(join(tmpdir(), 'rxvision-scheduler-files-'));
  const trials = ['trial-000', 'trial-001', 'trial-002'].map((name) => ({ name, settings: {}, epochs: 4 }));
  await writeFile(
    join(sweep, SWEEP_FILES.record),
    JSON.stringify({
      source: 'sweep.json',
      trials,
      scheduler: { type: 'asha', metric: 'valAccuracy', mode: 'max', gracePeriod: 1, reductionFactor: 2, brackets: 1 },
      states: {},
    }),
  );
}, 60_000);
afterAll(() => rm(sweep, { recursive: true, force: true }));

describe('the sweep scheduler on damaged histories', () => {
  test('a figure of 1e308 does not steer: the trial is left out, named once with its epoch', async () => {
    await writeTrial('trial-000', [record(1, 12345), record(2, 0.9)], true);
    const lines: string[] = [];
    const decide = (await sweepScheduler(sweep, 'trial-001', { log: (line) => lines.push(line), waitMs: 0 }))!;
    expect(await decide([record(1, 0.5)])).toBe('continue');
    expect(await decide([record(1, 0.5)])).toBe('continue');
    expect(lines).toEqual([
      `trial-000: left out of the asha decisions: ${join(sweep, 'trial-000', 'history.json')}: epoch 1: valAccuracy 1e+308 is outside [0, 1]`,
    ]);
  });

  test('an undamaged better trial still stops a worse one at the rung', async () => {
    await writeTrial('trial-000', [record(1, 0.9), record(2, 0.9)], true);
    const decide = (await sweepScheduler(sweep, 'trial-001', { waitMs: 0 }))!;
    expect(await decide([record(1, 0.5)])).toBe('stop');
  });
});
