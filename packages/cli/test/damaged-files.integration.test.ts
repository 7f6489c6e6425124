import { execFileSync } from 'node:child_process';
import { appendFile, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type CliRun, runCli, runCliInterrupted } from './run-cli.js';
import { writeSmallCifar } from './small-cifar-fixture.js';

// The adversarial pass's damaged files (#34): a checkpoint or a saved model edited, truncated,
// extended, bit-flipped or swapped for a FIFO is refused in one line naming the file, and nothing
// is written from it (no history rewritten, no summary, no model.onnx replaced).
// 2,500 images: 2,250 to train on, 18 steps an epoch at the tutorial's batch of 128.
const settings = ['--schedule', '2@0.05,1@0.01', '--limit', '2500', '--backend', 'wasm'];
let dir: string;
let data: string;
let interrupted: string;
let finished: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-damaged-'));
  data = await writeSmallCifar(join(dir, 'data'), { train: 2500, test: 500 });
  interrupted = join(dir, 'interrupted');
  const first = await runCliInterrupted(['train', '--data', data, '--out', interrupted, ...settings]);
  expect(first.code, first.stderr).toBe(130);
  finished = join(dir, 'finished');
  const second = await runCli(['train', '--data', data, '--out', finished, '--schedule', '1@0.05', '--limit', '1280', '--backend', 'wasm']);
  expect(second.code, second.stderr).toBe(0);
}, 600_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A copy of the interrupted run with its checkpoint damaged by `damage`, then `--resume`d. */
async function resumeDamaged(name: string, damage: (checkpoint: string) => Promise<void>): Promise<CliRun & { run: string }> {
  const run = join(dir, name);
  await cp(interrupted, run, { recursive: true });
  const history = await readFile(join(run, 'history.json'), 'utf8');
  await damage(join(run, 'checkpoint'));
  // A hang is killed after a minute (and then fails below: no exit code 1).
  const result = await runCli(
    ['train', '--resume', run, '--backend', 'wasm'],
    {},
    { onSpawn: (child) => void setTimeout(() => child.kill('SIGKILL'), 60_000).unref() },
  );
  // Nothing written from it: the history as it was, no summary.
  expect(await readFile(join(run, 'history.json'), 'utf8')).toBe(history);
  expect(existsSync(join(run, 'summary.json'))).toBe(false);
  return { ...result, run };
}

/** What the edits touch of checkpoint.json. */
interface Checkpoint {
  position: { epoch: number; step: number };
  history: unknown[];
}

const editJson = (checkpoint: string, edit: (file: Checkpoint) => void) => async () => {
  const path = join(checkpoint, 'checkpoint.json');
  const file = JSON.parse(await readFile(path, 'utf8'));
  edit(file);
  await writeFile(path, JSON.stringify(file));
};

async function flipBit(path: string, at = 1001): Promise<void> {
  const bytes = await readFile(path);
  bytes[at % bytes.length]! ^= 0x10;
  await writeFile(path, bytes);
}

const oneLine = (result: CliRun) => {
  expect(result.stderr.trim().split('\n'), result.stderr).toHaveLength(1);
  expect(result.code, result.stderr).toBe(1);
  return result.stderr.trim();
};

describe('a damaged checkpoint is refused in one line, and nothing is written from it', () => {
  test.each([
    ['position.epoch −5', (file: Checkpoint) => void (file.position.epoch = -5), /"position" must be at epoch 1 or later/],
    [
      'position.epoch 99999',
      (file: Checkpoint) => void (file.position.epoch = 99999),
      /"history" must hold the 99998 epochs before epoch 99999/,
    ],
    [
      'position.step 1e9',
      (file: Checkpoint) => void (file.position.step = 1e9),
      /cannot resume at epoch 2, step 1000000000: step 1000000000 is not one of epoch 2's 18 steps/,
    ],
    ['an empty history', (file: Checkpoint) => void (file.history = []), /"history" must hold the 1 epochs before epoch 2, it holds 0/],
  ])(
    '%s',
    async (name, edit, message) => {
      const result = await resumeDamaged(name.replace(/\W+/g, '-'), async (checkpoint) => editJson(checkpoint, edit)());
      expect(oneLine(result)).toMatch(message);
    },
    120_000,
  );

  test('a history figure of 1e999 (JSON.parse reads Infinity)', async () => {
    const result = await resumeDamaged('infinite', async (checkpoint) => {
      const path = join(checkpoint, 'checkpoint.json');
      await writeFile(path, (await readFile(path, 'utf8')).replace(/"valLoss": [^,\n]+/, '"valLoss": 1e999'));
    });
    expect(oneLine(result)).toMatch(/"history" record 1 must be epoch 1 with finite figures/);
  }, 120_000);

  test("100 bytes appended to the checkpoint's model weights", async () => {
    const result = await resumeDamaged('appended', (checkpoint) => appendFile(join(checkpoint, 'model', 'weights.bin'), Buffer.alloc(100)));
    expect(oneLine(result)).toMatch(/weights\.bin: damaged: it holds \d+ bytes, \d+ were written/);
  }, 120_000);

  test('one flipped bit in optimizer.bin', async () => {
    const result = await resumeDamaged('flipped', (checkpoint) => flipBit(join(checkpoint, 'optimizer.bin')));
    expect(oneLine(result)).toMatch(/optimizer\.bin: damaged: its SHA-256 differs from the one recorded when it was written$/);
  }, 120_000);

  test("one flipped bit in the checkpoint's model weights", async () => {
    const result = await resumeDamaged('model-flipped', (checkpoint) => flipBit(join(checkpoint, 'model', 'weights.bin')));
    expect(oneLine(result)).toMatch(/weights\.bin: damaged: its SHA-256 differs/);
  }, 120_000);

  test('checkpoint.json a FIFO: one line, no hang', async () => {
    const result = await resumeDamaged('fifo', async (checkpoint) => {
      await rm(join(checkpoint, 'checkpoint.json'));
      execFileSync('mkfifo', [join(checkpoint, 'checkpoint.json')]);
    });
    expect(oneLine(result)).toMatch(/checkpoint\.json: unreadable \(.*a FIFO, not a file to read\)/);
  }, 120_000);
});

describe("a finished run's damaged model", () => {
  test('one flipped bit in model/weights.bin: evaluate and export refuse it in one line, and the good model.onnx stays', async () => {
    const run = join(dir, 'finished-flipped');
    await cp(finished, run, { recursive: true });
    const onnx = await readFile(join(run, 'model.onnx'));
    await flipBit(join(run, 'model', 'weights.bin'));
    const evaluated = await runCli(['evaluate', '--model', run, '--backend', 'wasm']);
    expect(oneLine(evaluated)).toMatch(/weights\.bin: damaged: its SHA-256 differs/);
    const exported = await runCli(['export', run]);
    expect(oneLine(exported)).toMatch(/weights\.bin: damaged: its SHA-256 differs/);
    expect((await readFile(join(run, 'model.onnx'))).equals(onnx)).toBe(true);
  }, 120_000);
});
