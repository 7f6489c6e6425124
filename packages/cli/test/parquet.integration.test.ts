import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './run-cli.js';

let dir: string;
let hub: string;
const NAMES = ['angular', 'bean_rust', 'healthy'];

/** A shard as the Hugging Face hub stores one: image {bytes, path}, label int64, class names in the metadata. */
async function shard(path: string, rows: number, seed: number): Promise<void> {
  const labels = Array.from({ length: rows }, (_, r) => (r + seed) % 3);
  const images = await Promise.all(
    labels.map(async (label, r) => ({
      bytes: new Uint8Array(
        await sharp({ create: { width: 10, height: 10, channels: 3, background: { r: 60 * label + r, g: 200 - 60 * label, b: 90 } } })
          .jpeg()
          .toBuffer(),
      ),
      path: `${r}.jpg`,
    })),
  );
  const buffer = parquetWriteBuffer({
    schema: [
      { name: 'root', num_children: 2 },
      { name: 'image', repetition_type: 'OPTIONAL', num_children: 2 },
      { name: 'bytes', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL' },
      { name: 'path', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'label', type: 'INT64', repetition_type: 'OPTIONAL' },
    ],
    columnData: [
      { name: 'image', data: images },
      { name: 'label', data: labels.map(BigInt) },
    ],
    rowGroupSize: 16,
    kvMetadata: [
      {
        key: 'huggingface',
        value: JSON.stringify({ info: { features: { image: { _type: 'Image' }, label: { names: NAMES, _type: 'ClassLabel' } } } }),
      },
    ],
  });
  await writeFile(path, new Uint8Array(buffer));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-parquet-cli-'));
  hub = join(dir, 'hub');
  await mkdir(hub);
  await shard(join(hub, 'train-00000-of-00002.parquet'), 30, 0);
  await shard(join(hub, 'train-00001-of-00002.parquet'), 30, 1);
  await shard(join(hub, 'test-00000-of-00001.parquet'), 12, 2);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('Hugging Face Parquet through the CLI', () => {
  test('prepare --dataset parquet reads the train and test shards of a folder into --data', async () => {
    const data = join(dir, 'data');
    const result = await runCli(['prepare', '--dataset', 'parquet', '--source', hub, '--data', data]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual([
      `prepared: ${join(data, 'train.arrow')} (60 images, 10×10×3, classes ${NAMES.join(', ')})`,
      `prepared: ${join(data, 'test.arrow')} (12 images, 10×10×3, classes ${NAMES.join(', ')})`,
    ]);
    expect((await readdir(hub)).length).toBe(3);
  });

  test('train --config with a parquet dataset prepares it on first use and trains', async () => {
    await writeFile(
      join(dir, 'beans.json'),
      JSON.stringify({
        dataset: {
          type: 'parquet',
          train: ['hub/train-00000-of-00002.parquet', 'hub/train-00001-of-00002.parquet'],
          test: 'hub/test-00000-of-00001.parquet',
          dataDir: 'beans',
          size: [8, 8],
        },
        validation: 12,
        batchSize: 12,
        model: { type: 'mlp', hidden: [8] },
        schedule: [{ epochs: 1, learningRate: 0.05 }],
      }),
    );
    const result = await runCli(['train', '--config', join(dir, 'beans.json'), '--backend', 'wasm', '--out', join(dir, 'run')]);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(await readFile(join(dir, 'run', 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({
      architecture: 'mlp {"hidden":[8]} on 8×8×3 → 3 classes',
      split: { train: 48, validation: 12, test: 12 },
    });
    expect(Object.keys(summary.test.perClassAccuracy)).toEqual(NAMES);
    expect((await readdir(join(dir, 'beans'))).sort()).toEqual(['test.arrow', 'train.arrow']);
    // evaluate reads the run's own test split through its experiment: the summary's figures again.
    const evaluated = await runCli(['evaluate', '--model', join(dir, 'run'), '--backend', 'wasm', '--json']);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const figures = JSON.parse(evaluated.stdout);
    expect([figures.loss, figures.accuracy, figures.perClassAccuracy, figures.images]).toEqual([
      summary.test.loss,
      summary.test.accuracy,
      summary.test.perClassAccuracy,
      12,
    ]);
  }, 120_000);
});
