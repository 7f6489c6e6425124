import { tableToIPC } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { ImageDataset, labelArray, LABEL_COLUMN } from '../src/index.js';

/** `rows` 1×1 grey images whose labels count down from the last class. */
function dataset(classes: number, rows: number): ImageDataset {
  const labels = labelArray(classes, rows);
  labels.forEach((_, r) => (labels[r] = classes - 1 - r));
  const names = Array.from({ length: classes }, (_, c) => `class ${c}`);
  return ImageDataset.fromArrays({ classes: names, shape: [1, 1, 1], pixels: Uint8Array.from({ length: rows }, (_, r) => r), labels });
}

describe('labels as wide as the class count needs', () => {
  test.each([
    [10, 'Uint8'],
    [256, 'Uint8'],
    [257, 'Uint16'],
    [65_536, 'Uint16'],
    [70_000, 'Uint32'],
  ])('%i classes are stored as %s and read back through an Arrow file', (classes, type) => {
    const original = dataset(classes, 5);
    expect(String(original.table.schema.fields.find((f) => f.name === LABEL_COLUMN)!.type)).toBe(type);
    const reread = ImageDataset.fromIPC(tableToIPC(original.table, 'file'), 'wide.arrow');
    expect(Array.from({ length: 5 }, (_, r) => reread.label(r))).toEqual([classes - 1, classes - 2, classes - 3, classes - 4, classes - 5]);
    expect(reread.classes).toHaveLength(classes);
  });

  test('labels of the wrong width for the class count, or beyond it, are refused', () => {
    expect(() =>
      ImageDataset.fromArrays({
        classes: Array.from({ length: 300 }, String),
        shape: [1, 1, 1],
        pixels: new Uint8Array(2),
        labels: new Uint8Array(2),
      }),
    ).toThrow('labels of 8 bits for a Uint16 label column');
    const labels = labelArray(300, 2);
    labels[1] = 300;
    expect(() =>
      ImageDataset.fromArrays({ classes: Array.from({ length: 300 }, String), shape: [1, 1, 1], pixels: new Uint8Array(2), labels }, 'x'),
    ).toThrow('x: row 1 has label 300, outside 0..299');
  });
});
