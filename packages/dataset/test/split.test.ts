import { Table } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { ImageDataset, imageDatasetSchema, imageRecordBatch, labeledImages, randomSplit, subset } from '../src/index.js';

/** An in-memory dataset of 1×1 grey images whose pixel value is the row index mod 256. */
function syntheticDataset(labels: number[]): ImageDataset {
  const schema = imageDatasetSchema({ classes: ['a', 'b', 'c', 'd'], shape: [1, 1, 1], rows: labels.length, sources: {} });
  const pixels = Uint8Array.from(labels, (_, i) => i % 256);
  return ImageDataset.fromTable(new Table([imageRecordBatch(schema, pixels, Uint8Array.from(labels))]), 'synthetic');
}

describe('randomSplit', () => {
  const labels = Array.from({ length: 1000 }, (_, i) => (i < 700 ? 0 : i < 900 ? 1 : i < 990 ? 2 : 3));
  const dataset = syntheticDataset(labels);

  test('parts have the asked sizes, are disjoint and cover the dataset', () => {
    const [train, validation] = randomSplit(dataset, [900, 100], { seed: 43 });
    expect([train!.length, validation!.length]).toEqual([900, 100]);
    const all = new Set([...train!.indices, ...validation!.indices]);
    expect(all.size).toBe(1000);
  });

  test('the same seed gives the same split; another seed another one', () => {
    const a = randomSplit(dataset, [900, 100], { seed: 43 });
    const b = randomSplit(dataset, [900, 100], { seed: 43 });
    const c = randomSplit(dataset, [900, 100], { seed: 44 });
    expect(a[1]!.indices).toEqual(b[1]!.indices);
    expect(a[1]!.indices).not.toEqual(c[1]!.indices);
  });

  test('views read through to the rows they index', () => {
    const [, validation] = randomSplit(dataset, [900, 100], { seed: 1 });
    for (let i = 0; i < validation!.length; i++) {
      const row = validation!.indices[i]!;
      expect(validation!.label(i)).toBe(labels[row]);
      expect(validation!.image(i)[0]).toBe(row % 256);
    }
  });

  test('stratified parts give every class its proportional share, rounded', () => {
    const sizes = [800, 150, 50];
    const parts = randomSplit(dataset, sizes, { seed: 5, stratify: true });
    expect(parts.map((part) => part.length)).toEqual(sizes);
    const classSizes = [700, 200, 90, 10];
    parts.forEach((part, p) => {
      const counts = [0, 0, 0, 0];
      for (let i = 0; i < part.length; i++) counts[part.label(i)]!++;
      counts.forEach((count, label) => expect(Math.abs(count - (classSizes[label]! * sizes[p]!) / 1000)).toBeLessThan(1));
    });
    expect(new Set(parts.flatMap((part) => [...part.indices])).size).toBe(1000);
  });

  test('rejects sizes that do not add up', () => {
    expect(() => randomSplit(dataset, [900, 99], { seed: 1 })).toThrow(/adding up to the dataset's 1000 rows/);
  });
});

describe('subset', () => {
  test('a view of a view maps to the underlying rows', () => {
    const dataset = syntheticDataset(Array.from({ length: 10 }, (_, i) => i % 4));
    const outer = subset(dataset, [9, 8, 7, 6]);
    const inner = subset(outer, [3, 0]);
    expect(inner.source).toBe(dataset);
    expect(Array.from(inner.indices)).toEqual([6, 9]);
    expect(() => subset(outer, [4])).toThrow(RangeError);
  });
});

describe('labeledImages: arrays in memory as a dataset', () => {
  test('bytes or float32 pixels, viewed in place; splits keep their type', () => {
    const pixels = Float32Array.from({ length: 4 * 6 }, (_, i) => i / 10);
    const images = labeledImages({ classes: ['x', 'y'], shape: [2, 3, 1], pixels, labels: [1, 0, 1, 0] });
    expect([images.length, images.label(2), Array.from(images.image(2))]).toEqual([4, 1, Array.from(pixels.subarray(12, 18))]);
    expect(images.image(1).buffer).toBe(pixels.buffer); // a view, not a copy
    const [part] = randomSplit(images, [4], { seed: 1 });
    expect(part!.image(0)).toBeInstanceOf(Float32Array);
  });

  test('wrong lengths, bad labels and bad shapes are refused, naming the data', () => {
    expect(() => labeledImages({ classes: ['x', 'y'], shape: [2, 2, 1], pixels: new Uint8Array(7), labels: [0, 1] }, 'mine')).toThrow(
      'mine: holds 7 pixel values for 2 labels; 2×2×1 images need 8',
    );
    expect(() => labeledImages({ classes: ['x', 'y'], shape: [1, 1, 1], pixels: new Uint8Array(2), labels: [0, 2] }, 'mine')).toThrow(
      'mine: row 1 has label 2, outside 0..1',
    );
    expect(() => labeledImages({ classes: ['x'], shape: [0, 1, 1], pixels: new Uint8Array(0), labels: [] }, 'mine')).toThrow(
      'mine: shape [0, 1, 1] must be three positive integers',
    );
    expect(() => labeledImages({ classes: ['x'], shape: [1, 1, 1], pixels: new Uint8Array(1), labels: [0] }).image(1)).toThrow(RangeError);
  });
});
