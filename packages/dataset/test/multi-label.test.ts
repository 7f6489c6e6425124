import { tableFromIPC } from 'apache-arrow';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ConcatenatedImages, ImageDataset, randomSplit, subset } from '../src/index.js';
import { ImageDatasetWriter, openImages } from '../src/node/index.js';

let dir: string;
beforeAll(async () => void (dir = await mkdtemp(join(tmpdir(), 'rxvision-multi-label-'))));
afterAll(() => rm(dir, { recursive: true, force: true }));

const classes = ['cat', 'dog', 'grass', 'sky'];
/** Row r's labels, in an order the writer must sort, with a repeat it must drop. */
const given = (row: number) => [3, 0, 2, 1].filter((c) => (row >> c) % 2 === 1 || c === row % 4).concat(row % 4);
const stored = (row: number) => [...new Set(given(row))].sort((a, b) => a - b);

async function written(name: string, rows: number, rowsPerBatch = 7): Promise<string> {
  const path = join(dir, name);
  const writer = await ImageDatasetWriter.create(path, { classes, shape: [1, 2, 1], rows, rowsPerBatch, multiLabel: true });
  for (let row = 0; row < rows; row++) await writer.append(Uint8Array.of(row, row + 1), given(row));
  await writer.commit();
  return path;
}

test('a multi-label dataset: each row keeps its label set through the file, record batches, views, splits and shards', async () => {
  const path = await written('sets.arrow', 40);
  // Arrow's own reader of the list column, row by row, is the reference for the offsets read here.
  const table = tableFromIPC(await readFile(path));
  const reference = Array.from({ length: 40 }, (_, row) => Array.from(table.getChild('labels')!.get(row)!.toArray() as Uint8Array));
  expect(reference).toEqual(Array.from({ length: 40 }, (_, row) => stored(row)));
  const dataset = await openImages(path);
  expect(Array.from({ length: 40 }, (_, row) => Array.from(dataset.labelSet!(row)))).toEqual(reference);
  expect(Array.from({ length: 40 }, (_, row) => dataset.label(row))).toEqual(reference.map((set) => set[0]));

  const view = subset(subset(dataset, [39, 8, 21, 0]), [2, 0]);
  expect([Array.from(view.labelSet!(0)), Array.from(view.labelSet!(1))]).toEqual([reference[21], reference[39]]);
  const [train] = randomSplit(dataset, [30, 10], { seed: 5 });
  expect(train!.labelSet).toBeDefined();
  const shards = await openImages([path, await written('second.arrow', 9, 4)]);
  expect(Array.from(shards.labelSet!(41))).toEqual(stored(1));
  await Promise.all([dataset.close(), shards.close()]);
});

test('a dataset with one label an image has no label sets, and is not shards of a multi-label one', async () => {
  const single = ImageDataset.fromArrays({ classes, shape: [1, 2, 1], pixels: new Uint8Array(4), labels: Uint8Array.of(0, 3) });
  expect(single.labelSet).toBeUndefined();
  expect(subset(single, [1]).labelSet).toBeUndefined();
  const multi = await openImages(await written('third.arrow', 3));
  expect(() => new ConcatenatedImages([multi, single], ['third.arrow', 'single'])).toThrow(
    'single: has one label an image, unlike the others (multi-label)',
  );
  await multi.close();
});

test('a label set that is empty, unsorted, outside the classes or not led by the label is one line naming the row', () => {
  const of =
    (offsets: number[], values: number[], labels = [0, 1]) =>
    () =>
      ImageDataset.fromArrays(
        {
          classes,
          shape: [1, 1, 1],
          pixels: new Uint8Array(2),
          labels: Uint8Array.from(labels),
          labelSets: { offsets: Int32Array.from(offsets), values: Uint8Array.from(values) },
        },
        'sets.arrow',
      );
  expect(of([0, 1, 3], [0, 1, 2])).not.toThrow();
  expect(of([0, 1, 1], [0])).toThrow('sets.arrow: row 1 has no labels in its label set');
  expect(of([0, 1, 3], [0, 2, 1])).toThrow('sets.arrow: row 1 has a label set out of ascending order');
  expect(of([0, 1, 3], [0, 1, 4])).toThrow('sets.arrow: row 1 has label 4 in its set, outside 0..3');
  expect(of([0, 1, 3], [0, 2, 3])).toThrow('sets.arrow: row 1 has label 1, not the first of its set');
});

test('the writer takes an array of labels in a multi-label dataset and one label otherwise, each misuse one line', async () => {
  const path = join(dir, 'misuse.arrow');
  const multi = await ImageDatasetWriter.create(path, { classes, shape: [1, 1, 1], rows: 1, multiLabel: true });
  await expect(multi.append(new Uint8Array(1), 1)).rejects.toThrow(`${path}: is multi-label: append each image with an array of labels`);
  await expect(multi.append(new Uint8Array(1), [])).rejects.toThrow(`${path}: image 0 has no labels`);
  await expect(multi.append(new Uint8Array(1), [1, 4])).rejects.toThrow(`${path}: image 0 has label 4, outside 0..3`);
  await multi.abort();
  const single = await ImageDatasetWriter.create(path, { classes, shape: [1, 1, 1], rows: 1 });
  await expect(single.append(new Uint8Array(1), [1])).rejects.toThrow(`${path}: takes one label an image`);
  await single.abort();
});

test('a multi-label dataset too large for memory is refused from disk in one line, not read without its sets', async () => {
  const path = await written('large.arrow', 5);
  await expect(openImages(path, { maxInMemoryBytes: 0 })).rejects.toThrow(
    `${path}: is multi-label and larger than is read into memory; label sets are not read from disk yet`,
  );
});
