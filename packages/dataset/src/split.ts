import type { LabeledImages, PixelArray } from './labeled-images.js';
import { createRandom, permutation, shuffleInPlace } from './random.js';
import { type DatasetView, subset } from './subset.js';

export interface SplitOptions {
  /** Seeds the split's own PRNG: the same seed gives the same split on every run and platform. */
  readonly seed: number;
  /** Keep each class's share the same in every part (up to rounding). */
  readonly stratify?: boolean;
}

/**
 * Splits a dataset into views of the given sizes, which must add up to its length, like
 * PyTorch's `random_split(dataset, [45000, 5000])`. Each part lists its rows in random order.
 */
export function randomSplit<Pixels extends PixelArray = Uint8Array>(
  source: LabeledImages<Pixels>,
  sizes: readonly number[],
  options: SplitOptions,
): DatasetView<Pixels>[] {
  const total = sizes.reduce((sum, size) => sum + size, 0);
  if (!sizes.every((size) => Number.isInteger(size) && size >= 0) || total !== source.length) {
    throw new RangeError(`split sizes [${sizes.join(', ')}] must be whole numbers adding up to the dataset's ${source.length} rows`);
  }
  const random = createRandom(options.seed);
  if (!options.stratify) {
    const order = permutation(source.length, random);
    let start = 0;
    return sizes.map((size) => subset(source, order.subarray(start, (start += size))));
  }
  const byClass = rowsByClass(source).map((rows) => shuffleInPlace(rows, random));
  const counts = allocate(
    byClass.map((rows) => rows.length),
    sizes,
  );
  const parts = sizes.map((size) => new Uint32Array(size));
  const filled = sizes.map(() => 0);
  byClass.forEach((rows, label) => {
    let taken = 0;
    counts[label]!.forEach((count, part) => {
      parts[part]!.set(rows.subarray(taken, taken + count), filled[part]);
      filled[part]! += count;
      taken += count;
    });
  });
  return parts.map((rows) => subset(source, shuffleInPlace(rows, random)));
}

function rowsByClass(source: LabeledImages<PixelArray>): Uint32Array[] {
  const counts = new Array<number>(source.classes.length).fill(0);
  for (let i = 0; i < source.length; i++) counts[source.label(i)]!++;
  const rows = counts.map((count) => new Uint32Array(count));
  const next = counts.map(() => 0);
  for (let i = 0; i < source.length; i++) {
    const label = source.label(i);
    rows[label]![next[label]!++] = i;
  }
  return rows;
}

/**
 * How many rows of each class go to each part: proportional shares rounded down, then the
 * leftovers by largest remainder, so that every class and every part gets exactly its total.
 */
function allocate(classSizes: readonly number[], partSizes: readonly number[]): number[][] {
  const total = classSizes.reduce((sum, size) => sum + size, 0);
  const counts = classSizes.map((classSize) => partSizes.map((partSize) => Math.floor((classSize * partSize) / total)));
  const classLeft = classSizes.map((size, c) => size - sum(counts[c]!));
  const partLeft = partSizes.map((size, p) => size - sum(counts.map((row) => row[p]!)));
  const remainders = classSizes
    .flatMap((classSize, c) => partSizes.map((partSize, p) => ({ c, p, fraction: ((classSize * partSize) % total) / total })))
    .sort((a, b) => b.fraction - a.fraction || a.c - b.c || a.p - b.p);
  const give = (c: number, p: number, amount: number): void => {
    counts[c]![p]! += amount;
    classLeft[c]! -= amount;
    partLeft[p]! -= amount;
  };
  for (const { c, p } of remainders) {
    if (classLeft[c]! > 0 && partLeft[p]! > 0) give(c, p, 1);
  }
  // The greedy pass can strand a few rows; the north-west corner rule always places the rest.
  for (let c = 0; c < classSizes.length; c++) {
    for (let p = 0; p < partSizes.length; p++) give(c, p, Math.min(classLeft[c]!, partLeft[p]!));
  }
  return counts;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
