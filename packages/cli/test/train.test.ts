import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { runCli } from './run-cli.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-cli-train-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('rxvision train rejects bad input with one line and writes nothing', () => {
  test.each([
    [['--schedule', '10:0.05'], 'rxvision: --schedule: "10:0.05" is not EPOCHS@LEARNING_RATE (for example 10@0.05)'],
    [['--batch-size', '0'], 'rxvision: --batch-size must be at least 1, got "0"'],
    [['--seed', 'x'], 'rxvision: --seed must be an integer, got "x"'],
    [
      ['--backend', 'tpu'],
      'rxvision: --backend must be one of auto, tensorflow, webgpu, onednn, onednn-cpu, onnxruntime, wasm, cpu, got "tpu"',
    ],
    [['--threads', '0'], 'rxvision: --threads must be at least 1, got "0"'],
  ])('%j', async (args, message) => {
    const out = join(dir, 'run');
    const run = await runCli(['train', '--out', out, '--data', join(dir, 'data'), ...args]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe(message);
    expect(await readdir(dir)).toEqual([]);
  });
});
