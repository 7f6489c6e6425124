import { copyFile, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableToIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRandom, DatasetError, permutation } from '../src/index.js';
import { DiskImageDataset, ImageDatasetWriter, openImageDataset, openImages } from '../src/node/index.js';
import { specialFiles } from './special-files.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-disk-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Pixels that say which row they belong to, so a read from the wrong place shows. */
const image = (row: number, size: number) => Uint8Array.from({ length: size }, (_, p) => (row * 7 + p * 13) & 0xff);

async function write(
  name: string,
  options: { rows: number; shape: [number, number, number]; classes: string[]; rowsPerBatch: number; firstRow?: number },
) {
  const path = join(dir, name);
  const size = options.shape[0] * options.shape[1] * options.shape[2];
  const writer = await ImageDatasetWriter.create(path, options);
  const first = options.firstRow ?? 0;
  for (let row = first; row < first + options.rows; row++) await writer.append(image(row, size), (row * 5) % options.classes.length);
  await writer.commit();
  return path;
}

const names = (count: number) => Array.from({ length: count }, (_, i) => `class ${i}`);

describe('DiskImageDataset', () => {
  test('reads every image and label of a many-batch file as the in-memory reader does, in any order', async () => {
    const path = await write('many.arrow', { rows: 500, shape: [4, 3, 2], classes: names(300), rowsPerBatch: 37 });
    const memory = await openImageDataset(path);
    const disk = await DiskImageDataset.open(path);
    try {
      expect([disk.length, disk.classes, disk.shape, disk.sources]).toEqual([memory.length, memory.classes, memory.shape, memory.sources]);
      const shuffled = permutation(disk.length, createRandom(1));
      for (const rows of [shuffled, Array.from({ length: disk.length }, (_, i) => i)]) {
        for (const row of rows) {
          expect(disk.image(row)).toEqual(memory.image(row));
          expect(disk.label(row)).toBe(memory.label(row)); // 300 classes: 16-bit labels
        }
      }
      expect(() => disk.image(500)).toThrow(RangeError);
    } finally {
      await disk.close();
    }
  });

  test('shuffled reads fetch one image each; sequential reads fetch growing windows that stay within a batch', async () => {
    const path = await write('reads.arrow', { rows: 300, shape: [8, 8, 3], classes: names(2), rowsPerBatch: 100 });
    const disk = await DiskImageDataset.open(path);
    try {
      const size = disk.pixelsPerImage;
      for (const row of [250, 3, 120, 7, 299]) disk.image(row);
      expect(disk.bytesRead).toBe(5 * size);
      disk.bytesRead = 0;
      const first = disk.image(0);
      for (let row = 1; row < 300; row++) disk.image(row);
      // Every byte once (read-ahead never crosses into the next record batch's metadata), in few reads.
      expect(disk.bytesRead).toBe(300 * size);
      first.fill(0); // the caller owns what it got: the dataset is unaffected
      expect(disk.image(0)).toEqual(image(0, size));
    } finally {
      await disk.close();
    }
  });

  test('opening reads the labels and the layout, not the pixels', async () => {
    const path = await write('large.arrow', { rows: 3000, shape: [64, 64, 3], classes: names(10), rowsPerBatch: 256 }); // 37 MB
    const before = process.memoryUsage().arrayBuffers;
    const disk = await DiskImageDataset.open(path);
    const opened = process.memoryUsage().arrayBuffers - before;
    try {
      expect(opened).toBeLessThan(2 ** 20);
      expect(disk.image(2999)).toEqual(image(2999, 64 * 64 * 3));
    } finally {
      await disk.close();
    }
  });

  test('a truncated file, a stream-format file and a missing file each fail in one line naming the file', async () => {
    const good = await write('good.arrow', { rows: 50, shape: [2, 2, 1], classes: names(3), rowsPerBatch: 10 });
    const cut = join(dir, 'cut.arrow');
    await copyFile(good, cut);
    await truncate(cut, 300);
    await expect(DiskImageDataset.open(cut)).rejects.toThrow(new RegExp(`^${cut}: is not a readable Arrow IPC file`));
    const stream = join(dir, 'stream.arrow');
    await writeFile(stream, tableToIPC((await openImageDataset(good)).table, 'stream'));
    await expect(DiskImageDataset.open(stream)).rejects.toThrow(
      `${stream}: is in the Arrow stream format; reading from disk needs the file format`,
    );
    await expect(DiskImageDataset.open(join(dir, 'nope.arrow'))).rejects.toThrow(`${join(dir, 'nope.arrow')}: does not exist`);
    // The bytes are untouched by any of this.
    expect((await readFile(good)).length).toBeGreaterThan(300);
  });

  test('a FIFO, a folder, a link to /dev/zero and a 3 GB file of zeros: one line each, at once (#34)', async () => {
    const { fifo, folder, zero } = await specialFiles(dir);
    const sparse = join(dir, 'sparse.arrow');
    await writeFile(sparse, '');
    await truncate(sparse, 3 * 2 ** 30);
    await expect(DiskImageDataset.open(fifo)).rejects.toThrow(
      new DatasetError(fifo, `cannot be read (${fifo}: a FIFO, not a file to read)`),
    );
    await expect(DiskImageDataset.open(folder)).rejects.toThrow(`${folder}: cannot be read (${folder}: a folder, not a file to read)`);
    await expect(DiskImageDataset.open(zero)).rejects.toThrow(`${zero}: cannot be read (${zero}: a character device, not a file to read)`);
    await expect(DiskImageDataset.open(sparse)).rejects.toThrow(
      new DatasetError(sparse, 'is not an Arrow IPC file (it does not begin with ARROW1)'),
    );
    // openImages takes a 3 GB file from disk, not into memory.
    await expect(openImages(sparse)).rejects.toThrow(new DatasetError(sparse, 'is not an Arrow IPC file (it does not begin with ARROW1)'));
  });
});

describe('openImages', () => {
  test('several files read as one, from memory or from disk alike', async () => {
    const shape: [number, number, number] = [3, 3, 3];
    const parts = [
      await write('part-0.arrow', { rows: 40, shape, classes: names(4), rowsPerBatch: 16 }),
      await write('part-1.arrow', { rows: 25, shape, classes: names(4), rowsPerBatch: 16, firstRow: 40 }),
    ];
    const memory = await openImages(parts);
    const disk = await openImages(parts, { maxInMemoryBytes: 0 });
    try {
      expect([memory.storage, disk.storage, memory.length, disk.length]).toEqual(['memory', 'disk', 65, 65]);
      for (let row = 0; row < 65; row++) {
        expect(disk.image(row)).toEqual(image(row, 27));
        expect(memory.image(row)).toEqual(image(row, 27));
        expect([disk.label(row), memory.label(row)]).toEqual([(row * 5) % 4, (row * 5) % 4]);
      }
    } finally {
      await Promise.all([memory.close(), disk.close()]);
    }
  });

  test('files of different classes or shapes are refused, naming the odd one', async () => {
    const a = await write('a.arrow', { rows: 5, shape: [2, 2, 1], classes: names(2), rowsPerBatch: 5 });
    const b = await write('b.arrow', { rows: 5, shape: [2, 2, 1], classes: names(3), rowsPerBatch: 5 });
    const error = await openImages([a, b], { maxInMemoryBytes: 0 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DatasetError);
    expect((error as Error).message).toBe(
      `${b}: holds 2×2×1 images of classes class 0, class 1, class 2, unlike ${a} (2×2×1, class 0, class 1)`,
    );
    await expect(openImages([a, join(dir, 'missing.arrow')])).rejects.toThrow(`${join(dir, 'missing.arrow')}: does not exist`);
  });
});
