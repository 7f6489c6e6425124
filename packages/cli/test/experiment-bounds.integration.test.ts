import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageDatasetWriter } from '@rxvision/dataset/node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './run-cli.js';

// Experiments the schema let through and that then ended as internal errors (exit 70), some after
// writing a partial run folder: now one line each, before anything is written.
let dir: string;

async function dataset(name: string, shape: [number, number, number], classes: string[]): Promise<void> {
  const rows = 300;
  const writer = await ImageDatasetWriter.create(join(dir, `${name}.arrow`), { classes, shape, rows });
  for (let row = 0; row < rows; row++)
    await writer.append(
      Uint8Array.from({ length: shape[0] * shape[1] * shape[2] }, (_, i) => (row * 7 + i) % 256),
      row % classes.length,
    );
  await writer.commit();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-bounds-'));
  await dataset('small', [8, 8, 1], ['a', 'b', 'c']);
  await dataset('one', [8, 8, 1], ['only']);
  await dataset('tiny', [1, 1, 1], ['a', 'b']);
  await dataset('large', [160, 160, 1], ['a', 'b']);
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Stands for 10,000 nested lists in the file. */
const DEEP = '(10,000 nested lists)';
const base = {
  dataset: { type: 'arrow', train: 'small.arrow' },
  validation: 30,
  batchSize: 30,
  model: { type: 'mlp', hidden: [8] },
  schedule: [{ epochs: 1, learningRate: 0.1 }],
};

describe('experiments that cannot run: one line, exit 1, no run folder', () => {
  test.each([
    [
      '1e15 epochs',
      { ...base, schedule: [{ epochs: 1e15, learningRate: 0.1 }] },
      'schedule[0].epochs: expected a number ≤ 100000 (more epochs than any run finishes), got 1000000000000000',
    ],
    [
      'a hidden layer of 1e9 units',
      { ...base, model: { type: 'mlp', hidden: [1e9] } },
      'model.hidden[0]: expected a number ≤ 65536 (wider than a layer that fits in memory), got 1000000000',
    ],
    [
      'a CNN too deep for its images',
      { ...base, model: { type: 'cnn', blocks: [8, 8, 8, 8, 8] } },
      'model: 5 blocks halve 8×8 images below one pixel; use at most 3 (for 8×8×1 images in 3 classes)',
    ],
    [
      'one class',
      { ...base, dataset: { type: 'arrow', train: 'one.arrow' } },
      'dataset: holds one class ("only"); a classifier tells at least two apart',
    ],
    ['10,000-deep nesting', { ...base, description: DEEP }, 'the experiment is nested more than 32 levels deep; no field goes that deep'],
    [
      'a 50 MB string',
      { ...base, model: { type: 'x'.repeat(50_000_000) } },
      `model.type: expected one of "tutorial", "mlp", "cnn", "resnet", "airbench", "imagenet-resnet", "mobilenet-v2", "mobilenet-v3", "onnx", "tfjs", got "${'x'.repeat(80)}…" (50,000,000 characters)`,
    ],
  ])('%s', async (name, experiment, problem) => {
    const file = join(dir, `${name.replace(/\W+/g, '-')}.json`);
    // Written by hand where JSON.stringify itself would overflow the stack.
    await writeFile(file, JSON.stringify(experiment).replace(JSON.stringify(DEEP), `${'['.repeat(10_000)}${']'.repeat(10_000)}`));
    const out = join(dir, `run-${name.replace(/\W+/g, '-')}`);
    const result = await runCli(['train', '--config', file, '--out', out, '--backend', 'wasm']);
    expect({ code: result.code, stderr: result.stderr.trim() }).toEqual({ code: 1, stderr: `rxvision: ${file}: ${problem}` });
    expect(
      await access(out).then(
        () => 'exists',
        () => 'missing',
      ),
    ).toBe('missing');
  });

  test('a batch whose training step does not fit the wasm heap: one line naming a batch that fits, before anything is written (#34)', async () => {
    const file = join(dir, 'huge-batch.json');
    await writeFile(
      file,
      JSON.stringify({ ...base, dataset: { type: 'arrow', train: 'large.arrow' }, batchSize: 270, model: { type: 'cnn', blocks: [64] } }),
    );
    const out = join(dir, 'run-huge-batch');
    // On onednn the allocator once returned a block past the heap's end here (exit 70).
    const result = await runCli(['train', '--config', file, '--out', out, '--backend', 'onednn']);
    const problem =
      /^rxvision: .*: batchSize: a training step at 270 does not fit: the onednn backend's memory is full \(tfjs-wasm's heap, at most 4\.0 GB\): [\d,]+ MB more did not fit; a batch of (\d+) fits$/;
    expect({ code: result.code, stderr: result.stderr.trim() }).toEqual({ code: 1, stderr: expect.stringMatching(problem) });
    expect(Number(problem.exec(result.stderr.trim())![1])).toBeLessThan(270);
    expect(
      await access(out).then(
        () => 'exists',
        () => 'missing',
      ),
    ).toBe('missing');
  });

  test('1×1 images with a 4-pixel random crop train (the crop read past its batch: "offset is out of bounds" mid-training)', async () => {
    const file = join(dir, 'crop.json');
    await writeFile(
      file,
      JSON.stringify({
        ...base,
        dataset: { type: 'arrow', train: 'tiny.arrow' },
        augment: [
          { type: 'randomCrop', padding: 4 },
          { type: 'cutout', size: 4 },
        ],
      }),
    );
    const result = await runCli(['train', '--config', file, '--out', join(dir, 'run-crop'), '--backend', 'wasm']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Epoch \[1\], train_loss: /m);
  });
});
