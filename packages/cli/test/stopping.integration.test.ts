import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CHECKPOINT_FORMAT } from '@rxvision/train/node';
import { writeGreyBands } from './bands-fixture.js';
import { runCli } from './run-cli.js';

// Early stopping and keep-best from an experiment file, through a Ctrl-C and a resume: the best
// weights travel in the checkpoint, and the run ends where and as the uninterrupted one does.
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-stopping-'));
  await writeGreyBands(join(dir, 'bands.arrow'), 1500);
  const base = {
    dataset: { type: 'arrow', train: 'bands.arrow', test: 'bands.arrow' },
    validation: 150,
    batchSize: 10,
    model: { type: 'mlp', hidden: [32] },
    optimizer: { type: 'sgd', momentum: 0.9 },
  };
  // minDelta 10: no later epoch counts as better than the first, so the run ends after epoch 3 and keeps epoch 1.
  await writeFile(
    join(dir, 'stopping.json'),
    JSON.stringify({
      ...base,
      schedule: [{ epochs: 8, learningRate: 0.01 }],
      earlyStopping: { monitor: 'valLoss', patience: 2, minDelta: 10 },
      keepBest: true,
    }),
  );
  await writeFile(join(dir, 'one-epoch.json'), JSON.stringify({ ...base, schedule: [{ epochs: 1, learningRate: 0.01 }] }));
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

const train = ['--backend', 'wasm', '--threads', '1'];
const summaryOf = async (run: string) => JSON.parse(await readFile(join(run, 'summary.json'), 'utf8')) as Record<string, unknown>;
const weightsOf = (run: string) => readFile(join(run, 'model', 'weights.bin'));

describe('early stopping and keep-best', () => {
  test("end the run after patience epochs and keep the best epoch's weights, also when stopped with Ctrl-C and resumed", async () => {
    const straight = join(dir, 'straight');
    // stderr is a pipe here, not a terminal: progress comes as plain lines, every 0.2 s for the test (30 s by default).
    const result = await runCli(['train', '--config', join(dir, 'stopping.json'), '--out', straight, ...train], {
      RXVISION_PROGRESS_SECONDS: '0.2',
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^epoch 1\/8: \d+\/135 \(\d+%\) \| loss \d+\.\d{4} \| \d+ samples\/s$/m);
    expect(
      result.stderr
        .split('\n')
        .filter(Boolean)
        .every((line) => /^epoch \d\/8: /.test(line)),
    ).toBe(true);
    expect(result.stdout).toContain('stopped early after epoch 3: valLoss did not get better for 2 epochs');
    expect(result.stdout).toContain('kept the weights of epoch 1, the best');
    expect(await summaryOf(straight)).toMatchObject({ epochs: 8, ended: 'early-stopping', epochsRun: 3, bestEpoch: 1 });

    // The weights it kept are those after epoch 1: the same as a one-epoch run's.
    const oneEpoch = join(dir, 'one-epoch');
    expect((await runCli(['train', '--config', join(dir, 'one-epoch.json'), '--out', oneEpoch, ...train])).code).toBe(0);
    expect((await weightsOf(straight)).equals(await weightsOf(oneEpoch))).toBe(true);

    // Interrupted after epoch 2 (its checkpoint holds epoch 1's weights as the best), then resumed.
    const interrupted = join(dir, 'interrupted');
    let sent = false;
    const first = await runCli(
      ['train', '--config', join(dir, 'stopping.json'), '--out', interrupted, ...train],
      {},
      {
        onStdout: (stdout, child) => {
          if (sent || !stdout.includes('Epoch [2]')) return;
          sent = true;
          child.kill('SIGINT');
        },
      },
    );
    expect(first.code, first.stderr).toBe(130);
    const checkpoint = JSON.parse(await readFile(join(interrupted, 'checkpoint', 'checkpoint.json'), 'utf8')) as {
      format: number;
      best?: { epoch: number };
    };
    expect(checkpoint).toMatchObject({ format: CHECKPOINT_FORMAT, best: { epoch: 1 } });
    const resumed = await runCli(['train', '--resume', interrupted, ...train]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(await summaryOf(interrupted)).toMatchObject({ ended: 'early-stopping', epochsRun: 3, bestEpoch: 1 });
    expect((await weightsOf(interrupted)).equals(await weightsOf(straight))).toBe(true);
  }, 180_000);
});
