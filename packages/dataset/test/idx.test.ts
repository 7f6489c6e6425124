import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DatasetError, parseIdx } from '../src/index.js';
import { DEBIAN_FASHION_MNIST, FASHION_MNIST_CLASSES, openImageDataset, prepareFashionMnist, prepareIdx } from '../src/node/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-idx-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** IDX bytes: magic, big-endian dims, values. */
function idx(dims: number[], values: ArrayLike<number>, type = 0x08): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  header.set([0, 0, type, dims.length]);
  const view = new DataView(header.buffer);
  dims.forEach((size, i) => view.setUint32(4 + 4 * i, size));
  return Uint8Array.from([...header, ...Array.from(values)]);
}

describe('parseIdx', () => {
  test('reads dimensions and values; says what is wrong otherwise', () => {
    expect(parseIdx(idx([2, 3], [1, 2, 3, 4, 5, 6]))).toEqual({ dims: [2, 3], values: Uint8Array.from([1, 2, 3, 4, 5, 6]) });
    expect(parseIdx(Uint8Array.from([1, 0, 8, 1]))).toBe('is not an IDX file (it does not start with two zero bytes)');
    expect(parseIdx(idx([2], [1, 2], 0x0d))).toBe('holds IDX values of type 0x0d; images and labels are unsigned bytes (0x08)');
    expect(parseIdx(idx([2, 3], [1, 2, 3]))).toBe('is truncated or padded: its header [2, 3] needs 6 values, it holds 3');
    expect(parseIdx(Uint8Array.from([0, 0, 8]))).toBe('holds 3 bytes, too few for an IDX header');
  });
});

describe('prepareIdx', () => {
  const write = async (name: string, bytes: Uint8Array) => {
    const path = join(dir, name);
    await writeFile(path, bytes);
    return path;
  };

  test('writes a 2×2 grey dataset from gzipped and plain IDX files, then skips the second time', async () => {
    const images = await write('images.gz', gzipSync(idx([3, 2, 2], [0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23])));
    const labels = await write('labels', idx([3], [2, 0, 1]));
    const out = join(dir, 'tiny', 'train.arrow');
    const first = await prepareIdx({ images, labels, classes: ['a', 'b', 'c'], out });
    expect(first).toEqual({ path: out, rows: 3, shape: [2, 2, 1], skipped: false });
    const dataset = await openImageDataset(out);
    expect([dataset.length, dataset.shape, dataset.classes]).toEqual([3, [2, 2, 1], ['a', 'b', 'c']]);
    expect(Array.from(dataset.image(1))).toEqual([10, 11, 12, 13]);
    expect([0, 1, 2].map((row) => dataset.label(row))).toEqual([2, 0, 1]);
    const modified = (await stat(out)).mtimeMs;
    expect((await prepareIdx({ images, labels, classes: ['a', 'b', 'c'], out })).skipped).toBe(true);
    expect((await stat(out)).mtimeMs).toBe(modified);
  });

  test('bad input fails with one line naming the file, and leaves nothing behind', async () => {
    const images = await write('good-images', idx([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]));
    const cases: Array<[string, () => Promise<Record<string, string>>, RegExp]> = [
      [
        'labels for another count',
        async () => ({ labels: await write('three-labels', idx([3], [0, 1, 0])) }),
        /three-labels: holds 3 labels for 2 images in .*good-images$/,
      ],
      [
        'a label without a class',
        async () => ({ labels: await write('big-label', idx([2], [0, 7])) }),
        /big-label: label 7 at row 1 has no class: 2 class names given$/,
      ],
      [
        'truncated images',
        async () => ({ images: await write('short-images', idx([2, 2, 2], [1, 2, 3])) }),
        /short-images: is truncated or padded: its header \[2, 2, 2\] needs 8 values, it holds 3$/,
      ],
      [
        'a damaged gzip',
        async () => ({ images: await write('broken.gz', gzipSync(idx([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8])).subarray(0, 20)) }),
        /broken\.gz: is a damaged gzip file \(unexpected end of file\)$/,
      ],
      [
        'labels with two dimensions',
        async () => ({ labels: await write('square-labels', idx([2, 1], [0, 1])) }),
        /square-labels: holds an IDX array of 2 dimensions; labels are \[n\]$/,
      ],
    ];
    for (const [what, change, message] of cases) {
      const out = join(dir, `bad-${what.replaceAll(' ', '-')}`, 'train.arrow');
      const error = await prepareIdx({
        images,
        labels: await write('good-labels', idx([2], [0, 1])),
        classes: ['a', 'b'],
        out,
        ...(await change()),
      }).catch((e: unknown) => e);
      expect(error, what).toBeInstanceOf(DatasetError);
      expect((error as Error).message, what).toMatch(message);
      expect((error as Error).message.includes('\n'), what).toBe(false);
      expect(existsSync(join(out, '..')), `${what}: the folder it made is gone`).toBe(false);
    }
    expect(await prepareIdx({ images, labels: images, classes: ['a'], out: images }).catch((e: Error) => e.message)).toBe(
      `${images}: is a source of this dataset; write it somewhere else`,
    );
  });

  test('never replaces a file it did not write, unless forced', async () => {
    const images = await write('im', idx([1, 1, 1], [9]));
    const labels = await write('lb', idx([1], [0]));
    const out = await write('someone-elses.arrow', Uint8Array.from([1, 2, 3]));
    await expect(prepareIdx({ images, labels, classes: ['a', 'b'], out })).rejects.toThrow(
      `${out}: exists and is not this dataset; left as it is (move it away, or prepare with force to replace it)`,
    );
    expect((await stat(out)).size).toBe(3);
    expect((await prepareIdx({ images, labels, classes: ['a', 'b'], out, force: true })).skipped).toBe(false);
    expect((await openImageDataset(out)).length).toBe(1);
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});

// Debian's dataset-fashion-mnist, which .ci/run installs: in CI this runs, never skips.
describe.runIf(existsSync(DEBIAN_FASHION_MNIST) || process.env.CI)('Fashion-MNIST from Debian', () => {
  test('prepares 60,000 + 10,000 grey 28×28 images in ten balanced classes', async () => {
    const prepared = await prepareFashionMnist({ dataDir: join(dir, 'fashion') });
    expect([prepared.rows, prepared.train, prepared.test, prepared.skipped]).toEqual([
      { train: 60_000, test: 10_000 },
      join(dir, 'fashion', 'train.arrow'),
      join(dir, 'fashion', 'test.arrow'),
      false,
    ]);
    const dataset = await openImageDataset(prepared.train);
    expect(dataset.shape).toEqual([28, 28, 1]);
    expect(dataset.classes).toEqual([...FASHION_MNIST_CLASSES]);
    const counts = new Array(10).fill(0);
    for (let row = 0; row < dataset.length; row++) counts[dataset.label(row)]++;
    expect(counts).toEqual(new Array(10).fill(6000));
    expect(FASHION_MNIST_CLASSES[dataset.label(0)]).toBe('Ankle boot'); // the dataset's first image
    const first = dataset.image(0);
    expect(first.length).toBe(784);
    expect(Math.max(...first)).toBeGreaterThan(200);
    expect((await prepareFashionMnist({ dataDir: join(dir, 'fashion') })).skipped).toBe(true);
  }, 120_000);
});
