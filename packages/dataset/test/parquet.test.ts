import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openImageDataset, prepareParquet } from '../src/node/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-parquet-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const png = (grey: number) =>
  sharp({ create: { width: 5, height: 3, channels: 3, background: { r: grey, g: grey, b: grey } } })
    .png()
    .toBuffer();
const HF_METADATA = {
  key: 'huggingface',
  value: JSON.stringify({
    info: { features: { image: { _type: 'Image' }, label: { names: ['zero', 'one', 'two'], _type: 'ClassLabel' } } },
  }),
};

/** A Parquet shard as the Hugging Face hub writes one: image {bytes, path}, label int64, class names in the metadata. */
async function shard(
  name: string,
  labels: number[],
  options: { metadata?: boolean; withLabel?: boolean; pathOnly?: boolean } = {},
): Promise<string> {
  const { metadata = true, withLabel = true, pathOnly = false } = options;
  const images = await Promise.all(
    labels.map(async (label, i) => ({ bytes: pathOnly ? null : new Uint8Array(await png(label * 100 + i)), path: `${i}.png` })),
  );
  const buffer = parquetWriteBuffer({
    schema: [
      { name: 'root', num_children: withLabel ? 2 : 1 },
      { name: 'image', repetition_type: 'OPTIONAL', num_children: 2 },
      { name: 'bytes', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL' },
      { name: 'path', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      ...(withLabel ? [{ name: 'label', type: 'INT64' as const, repetition_type: 'OPTIONAL' as const }] : []),
    ],
    columnData: [{ name: 'image', data: images }, ...(withLabel ? [{ name: 'label', data: labels.map(BigInt) }] : [])],
    rowGroupSize: 3,
    ...(metadata && { kvMetadata: [HF_METADATA] }),
  });
  const path = join(dir, name);
  await writeFile(path, new Uint8Array(buffer));
  return path;
}

describe('prepareParquet', () => {
  test('Hugging Face shards, row group by row group, into one Arrow file with the listed class names', async () => {
    const shards = [
      await shard('train-00000-of-00002.parquet', [0, 1, 2, 0, 1, 2, 0]),
      await shard('train-00001-of-00002.parquet', [2, 2, 1]),
    ];
    const out = join(dir, 'data', 'train.arrow');
    const result = await prepareParquet({ source: shards, out });
    expect(result).toMatchObject({ rows: 10, classes: ['zero', 'one', 'two'], shape: [3, 5, 3], skipped: false });
    const dataset = await openImageDataset(out);
    expect(Array.from({ length: 10 }, (_, r) => dataset.label(r))).toEqual([0, 1, 2, 0, 1, 2, 0, 2, 2, 1]);
    expect(dataset.image(4)[0]).toBe(104); // shard 0, row 4: label 1, grey 100 + 4
    expect(dataset.image(9)[0]).toBe(102); // shard 1, row 2
    expect(Object.keys(dataset.sources).sort()).toEqual(['train-00000-of-00002.parquet', 'train-00001-of-00002.parquet']);
    expect((await prepareParquet({ source: shards, out })).skipped).toBe(true);
  });

  test('without the Hugging Face metadata the classes are the label values', async () => {
    const result = await prepareParquet({
      source: await shard('bare.parquet', [0, 1, 1], { metadata: false }),
      out: join(dir, 'data', 'bare.arrow'),
    });
    expect(result.classes).toEqual(['0', '1']);
  });

  test.each([
    [
      'a file without a label column',
      { withLabel: false },
      (path: string) => `${path}: has no label column "label" (its columns: image); name another with labelColumn`,
    ],
    [
      'images stored only as paths',
      { pathOnly: true },
      (path: string) => `${path} row 0: has no image bytes (only a path, 0.png: images stored outside the file are not read)`,
    ],
  ])('%s fails in one line and leaves nothing behind', async (name, options, message) => {
    const path = await shard(`${name.replace(/\W+/g, '-')}.parquet`, [0, 1], options);
    const outDir = join(dir, `out-${name.replace(/\W+/g, '-')}`);
    await expect(prepareParquet({ source: path, out: join(outDir, 'x.arrow') })).rejects.toThrow(message(path));
    await expect(readdir(outDir)).rejects.toThrow('ENOENT');
  });

  test('a file that is not Parquet is named', async () => {
    const path = join(dir, 'not.parquet');
    await writeFile(path, 'hello');
    await expect(prepareParquet({ source: path, out: join(dir, 'never.arrow') })).rejects.toThrow(
      `${path}: is not a readable Parquet file (`,
    );
  });
});
