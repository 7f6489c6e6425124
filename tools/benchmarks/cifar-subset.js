// A subset of a prepared dataset written as its own Arrow file, for the benchmarks that split CIFAR-10.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ImageDatasetWriter } from '@rxvision/dataset/node';

/**
 * Writes `out/file` (unless it is there) with the first `perClass[k]` rows of class `classes[k]` of
 * `dataset`, relabelled k, in the dataset's order; returns its path.
 */
export async function writeSubset(dataset, out, file, { classes, perClass }) {
  const path = join(out, file);
  if (existsSync(path)) return path;
  const rows = [];
  const taken = new Array(classes.length).fill(0);
  for (let row = 0; row < dataset.length; row++) {
    const k = classes.indexOf(dataset.label(row));
    if (k >= 0 && taken[k] < perClass[k]) (rows.push([row, k]), taken[k]++);
  }
  const names = classes.map((c) => dataset.classes[c]);
  const writer = await ImageDatasetWriter.create(path, { classes: names, shape: dataset.shape, rows: rows.length });
  for (const [row, k] of rows) await writer.append(dataset.image(row), k);
  await writer.commit();
  return path;
}
