import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onnxModel, type OnnxInitializer } from '@rxvision/onnx';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runCli } from './run-cli.js';

const readme = fileURLToPath(new URL('../../../README.md', import.meta.url));
let dir: string;

/** A "pretrained" ONNX classifier of 64×64 RGB images into 10 classes: a strided stem, batch norm, pooling and a head. */
function pretrained(): Uint8Array {
  const weights = (name: string, dims: number[], seed: number, offset = 0): OnnxInitializer => ({
    name,
    dims,
    values: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => offset + Math.sin(seed * 100 + i) * 0.3),
  });
  return onnxModel({
    nodes: [
      {
        op: 'Conv',
        inputs: ['images', 'stem.weight'],
        outputs: ['c'],
        attributes: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
      },
      { op: 'BatchNormalization', inputs: ['c', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var'], outputs: ['b'] },
      { op: 'Relu', inputs: ['b'], outputs: ['r'] },
      { op: 'GlobalAveragePool', inputs: ['r'], outputs: ['p'] },
      { op: 'Flatten', inputs: ['p'], outputs: ['f'] },
      { op: 'Gemm', inputs: ['f', 'fc.weight', 'fc.bias'], outputs: ['logits'], attributes: { transB: 1 } },
    ],
    inputs: [{ name: 'images', dims: ['N', 3, 64, 64] }],
    outputs: [{ name: 'logits', dims: ['N', 10] }],
    initializers: [
      weights('stem.weight', [8, 3, 3, 3], 1),
      weights('bn.weight', [8], 2, 1),
      weights('bn.bias', [8], 3),
      weights('bn.running_mean', [8], 4),
      weights('bn.running_var', [8], 5, 1),
      weights('fc.weight', [10, 8], 6),
      weights('fc.bias', [10], 7),
    ],
  });
}

/** A photo of `size`, mostly red or mostly blue, noisy. */
const photo = (colour: 'red' | 'blue', [width, height]: [number, number], seed: number) =>
  sharp(
    Buffer.from(
      Uint8Array.from({ length: width * height * 3 }, (_, i) => {
        const channel = i % 3;
        const strong = (colour === 'red' && channel === 0) || (colour === 'blue' && channel === 2);
        return (strong ? 150 : 60) + ((i * 37 + seed * 101) % 80);
      }),
    ),
    { raw: { width, height, channels: 3 } },
  );

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-fine-tune-'));
  for (const [split, count] of [
    ['train', 30],
    ['test', 8],
  ] as const)
    for (const colour of ['red', 'blue'] as const) {
      await mkdir(join(dir, 'photos', split, colour), { recursive: true });
      for (let i = 0; i < count; i++) {
        const size: [number, number] = [70 + ((i * 7) % 30), 60 + ((i * 11) % 40)]; // photos of many sizes
        await photo(colour, size, i)
          .png()
          .toFile(join(dir, 'photos', split, colour, `${i}.png`));
      }
    }
  await photo('blue', [90, 80], 99).jpeg().toFile(join(dir, 'photo.jpg'));
  await writeFile(join(dir, 'pretrained.onnx'), pretrained());
});
afterAll(() => rm(dir, { recursive: true, force: true }));

test("the README's fine-tuning example runs as written: an ONNX classifier fine-tuned on a folder of photos, then predict", async () => {
  const text = await readFile(readme, 'utf8');
  const [, json, commands] = /<!-- fine-tune-example -->\s*```json\n([\s\S]*?)```\s*```sh\n([\s\S]*?)```/.exec(text) ?? [];
  expect(json, 'README block fine-tune-example').toBeDefined();
  await writeFile(join(dir, 'fine-tune.json'), json!);
  const lines = commands!.trim().split('\n');
  expect(lines.every((line) => line.startsWith('npx rxvision '))).toBe(true);
  const [train, predict] = lines.map((line) => line.replace(/^npx rxvision /, '').split(' '));
  const trained = await runCli(train!, {}, { cwd: dir });
  expect(trained.code, trained.stderr).toBe(0);
  const summary = JSON.parse(await readFile(join(dir, 'runs', 'photos', 'summary.json'), 'utf8'));
  expect(summary.architecture).toBe('pretrained.onnx (ONNX) on 64×64×3 → 2 classes');
  expect(summary.test.accuracy).toBeGreaterThan(0.8);
  const predicted = await runCli([...predict!, '--json'], {}, { cwd: dir });
  expect(predicted.code, predicted.stderr).toBe(0);
  expect(JSON.parse(predicted.stdout).top[0].class).toBe('blue');
}, 300_000);
