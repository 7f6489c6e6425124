import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ImageDatasetWriter, openImageDataset } from '../src/node/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-writer-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

// The garbage collector on demand: memory is measured as what is still held, not what awaits collection.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const image = (row: number, size: number) => Uint8Array.from({ length: size }, (_, p) => (row * 31 + p) & 0xff);

describe('ImageDatasetWriter', () => {
  test('writes image by image, in record batches, into a file that reads back the same', async () => {
    const path = join(dir, 'sub', 'written.arrow');
    const writer = await ImageDatasetWriter.create(path, {
      classes: ['a', 'b', 'c'],
      shape: [2, 3, 1],
      rows: 150,
      rowsPerBatch: 64,
      sources: { 'raw.bin': 'ab12' },
    });
    for (let row = 0; row < 150; row++) await writer.append(image(row, 6), row % 3);
    await writer.commit();
    const dataset = await openImageDataset(path);
    expect([dataset.length, dataset.classes, dataset.shape, dataset.sources]).toEqual([
      150,
      ['a', 'b', 'c'],
      [2, 3, 1],
      { 'raw.bin': 'ab12' },
    ]);
    expect([...dataset].map((chunk) => chunk.length)).toEqual([64, 64, 22]);
    for (const row of [0, 63, 64, 149]) {
      expect(Array.from(dataset.image(row))).toEqual(Array.from(image(row, 6)));
      expect(dataset.label(row)).toBe(row % 3);
    }
    expect((await readdir(join(dir, 'sub'))).sort()).toEqual(['written.arrow']);
  });

  test('a wrong image, label or count fails in one line naming the file; abort leaves nothing', async () => {
    const path = join(dir, 'bad', 'x.arrow');
    const writer = await ImageDatasetWriter.create(path, { classes: ['a', 'b'], shape: [1, 2, 1], rows: 2 });
    await expect(writer.append(new Uint8Array(3), 0)).rejects.toThrow(`${path}: image 0 has 3 values; the shape 1×2×1 needs 2`);
    await expect(writer.append(new Uint8Array(2), 2)).rejects.toThrow(`${path}: image 0 has label 2, outside 0..1`);
    await writer.append(new Uint8Array(2), 1);
    await expect(writer.commit()).rejects.toThrow(`${path}: 1 images appended, 2 announced`);
    await writer.abort();
    await expect(readdir(join(dir, 'bad'))).rejects.toThrow('ENOENT'); // the folder it made is gone too
  });

  test('memory stays bounded: 240 MB of 64×64×3 images pass through about two record batches', async () => {
    const path = join(dir, 'large.arrow');
    const size = 64 * 64 * 3;
    const rows = 20_000;
    const writer = await ImageDatasetWriter.create(path, { classes: ['x', 'y'], shape: [64, 64, 3], rows, rowsPerBatch: 1024 });
    const pixels = image(1, size);
    let peak = 0;
    const held = () => (collectGarbage(), process.memoryUsage().arrayBuffers);
    const baseline = held();
    for (let row = 0; row < rows; row++) {
      await writer.append(pixels, row & 1);
      if (row % 500 === 0) peak = Math.max(peak, held() - baseline);
    }
    await writer.commit();
    // A batch is 12.6 MB; the writer holds one being filled and at most two queued for the disk.
    expect(peak).toBeLessThan(3 * 1024 * size + 4 * 2 ** 20);
    const dataset = await openImageDataset(path);
    expect(dataset.length).toBe(rows);
    expect(Array.from(dataset.image(rows - 1).subarray(0, 4))).toEqual(Array.from(pixels.subarray(0, 4)));
  }, 60_000);
});
