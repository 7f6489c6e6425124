import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ImageDataset } from '../src/index.js';
import { prepareCifar10 } from '../src/node/index.js';
import { type Fixture, makeFixture, writeTarball } from './fixtures.js';

let fixture: Fixture;
let bytes: Uint8Array;
beforeAll(async () => {
  fixture = await makeFixture();
  const tarball = await writeTarball(join(fixture.dir, 'src.tar.gz'), [...fixture.raw.entries()]);
  await prepareCifar10({ source: tarball, dataDir: join(fixture.dir, 'out'), spec: fixture.spec });
  bytes = await readFile(join(fixture.dir, 'out', 'train.arrow'));
});
afterAll(() => fixture.cleanup());

describe('ImageDataset', () => {
  test('images are views into the file bytes, not copies', () => {
    const dataset = ImageDataset.fromIPC(bytes, 'train.arrow');
    for (const row of [0, 5, 6, 9]) {
      const image = dataset.image(row);
      expect(image.buffer).toBe(bytes.buffer);
      expect(image.length).toBe(12);
    }
  });

  test('one chunk per raw file, in row order, covering every row', () => {
    const dataset = ImageDataset.fromIPC(bytes, 'train.arrow');
    const chunks = [...dataset];
    expect(chunks.map((chunk) => [chunk.start, chunk.length])).toEqual([
      [0, 6],
      [6, 4],
    ]);
    for (const chunk of chunks) {
      for (let i = 0; i < chunk.length; i++) {
        expect(chunk.labels[i]).toBe(dataset.label(chunk.start + i));
        expect(chunk.pixels.subarray(i * 12, (i + 1) * 12)).toEqual(dataset.image(chunk.start + i));
      }
    }
  });

  test('random access across chunks returns the right rows', () => {
    const dataset = ImageDataset.fromIPC(bytes, 'train.arrow');
    for (const row of [9, 0, 7, 3, 6, 5]) {
      expect(dataset.label(row)).toBe(fixture.rows.train[row]!.label);
      expect(Array.from(dataset.image(row))).toEqual(Array.from(fixture.rows.train[row]!.hwc));
    }
    expect(() => dataset.image(10)).toThrow(RangeError);
    expect(() => dataset.label(-1)).toThrow(RangeError);
  });

  test('exposes classes, shape and the checksums of its raw files', () => {
    const dataset = ImageDataset.fromIPC(bytes, 'train.arrow');
    expect(dataset.classes).toEqual(fixture.spec.classes);
    expect(dataset.shape).toEqual([2, 2, 3]);
    expect(Object.keys(dataset.sources)).toEqual(['data_batch_1.bin', 'data_batch_2.bin']);
  });
});

describe('ImageDataset.fromArrays', () => {
  test('wraps pixels and labels without copying, and checks labels against the classes', () => {
    const pixels = Uint8Array.from({ length: 2 * 12 }, (_, i) => i);
    const dataset = ImageDataset.fromArrays({ classes: ['a', 'b'], shape: [2, 2, 3], pixels, labels: Uint8Array.from([1, 0]) });
    expect(dataset.length).toBe(2);
    expect(dataset.image(1).buffer).toBe(pixels.buffer);
    expect(Array.from(dataset.image(1))).toEqual(Array.from(pixels.subarray(12)));
    expect(() => ImageDataset.fromArrays({ classes: ['a'], shape: [2, 2, 3], pixels, labels: Uint8Array.from([1, 0]) })).toThrow(
      /row 0 has label 1, outside 0\.\.0/,
    );
  });
});
