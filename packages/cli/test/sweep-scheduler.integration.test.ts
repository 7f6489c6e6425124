import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { writeGreyBands } from './bands-fixture.js';
import { runCli } from './run-cli.js';
import { expectSchedulerFollowed } from './scheduler-replay.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-sweep-asha-'));
  await writeGreyBands(join(dir, 'bands.arrow'), 600);
  const base = {
    dataset: { type: 'arrow', train: 'bands.arrow', test: 'bands.arrow' },
    validation: 120,
    batchSize: 30,
    model: { type: 'mlp', hidden: [16] },
    schedule: [{ epochs: 4, learningRate: 0.1 }],
  };
  // Three rates that learn and three that cannot move the weights: ASHA should stop those at its first rung.
  const schedules = [0.3, 1e-6, 0.1, 1e-6, 0.2, 1e-6].map((learningRate) => [{ epochs: 4, learningRate }]);
  await writeFile(
    join(dir, 'asha.json'),
    JSON.stringify({
      base,
      grid: { schedule: schedules },
      concurrency: 2,
      scheduler: { type: 'asha', gracePeriod: 1, reductionFactor: 2 },
    }),
  );
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

test('a local ASHA sweep stops trials at its rungs exactly as its rule says, two at a time, and status shows it', async () => {
  const out = join(dir, 'out');
  const result = await runCli(['sweep', join(dir, 'asha.json'), '--out', out, '--backend', 'wasm', '--threads', '1']);
  expect(result.code, result.stderr).toBe(0);
  const stopped = await expectSchedulerFollowed(out);
  expect(result.stdout).toMatch(/^trial-003 \(schedule=\[\{"epochs":4,"learningRate":0\.000001\}\]\): stopped early at epoch [12]$/m);
  expect(stopped).toBeGreaterThanOrEqual(2); // the rates that cannot learn, at least the later ones
  const status = await runCli(['sweep', 'status', out]);
  expect(status.code, status.stderr).toBe(0);
  expect(status.stdout).toMatch(/trial-003\s+schedule=\[\{"epochs":4,"learningRate":0\.000001\}\]\s+stopped early at epoch [12]/);
  expect(status.stdout).toMatch(/trial-000\s+\S+\s+finished/);
  const budget = /asha: (\d+) of the 24 epochs every trial's whole schedule takes \((\d+)%\)/.exec(status.stdout);
  expect(budget, status.stdout).not.toBeNull();
  expect(Number(budget![1])).toBeLessThan(24);
}, 300_000);
