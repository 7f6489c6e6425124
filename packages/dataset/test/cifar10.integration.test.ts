import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CIFAR10, type ImageDataset, randomSplit } from '../src/index.js';
import { CIFAR10_SOURCE_VARIABLE, openImageDataset, prepareCifar10 } from '../src/node/index.js';

// The real dataset comes only through the one setting that .ci/run sets.
const source = process.env[CIFAR10_SOURCE_VARIABLE];
if (!source) console.warn(`skipping real CIFAR-10 tests: ${CIFAR10_SOURCE_VARIABLE} is not set`);

describe.runIf(source)('real CIFAR-10', () => {
  let dir: string;
  let train: ImageDataset;
  let test_: ImageDataset;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rxvision-cifar10-'));
    await prepareCifar10({ source: source!, dataDir: dir });
    [train, test_] = await Promise.all([openImageDataset(join(dir, 'train.arrow')), openImageDataset(join(dir, 'test.arrow'))]);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('sizes, classes and shape are the tutorial’s', () => {
    expect(train.length).toBe(50_000);
    expect(test_.length).toBe(10_000);
    expect(train.classes).toEqual(CIFAR10.classes);
    expect(train.shape).toEqual([32, 32, 3]);
  });

  test('row 0 of train is a frog; row 0 of test a cat; pixels are HWC', () => {
    expect(train.classes[train.label(0)]).toBe('frog');
    expect(train.label(0)).toBe(6);
    expect(test_.classes[test_.label(0)]).toBe('cat');
    expect(train.image(0).length).toBe(3072);
  });

  test('5,000 training and 1,000 test images per class; batch 1 has the published counts', () => {
    const counts = (dataset: ImageDataset, end = dataset.length): number[] => {
      const result = new Array<number>(10).fill(0);
      for (let i = 0; i < end; i++) result[dataset.label(i)]!++;
      return result;
    };
    expect(counts(train)).toEqual(new Array(10).fill(5000));
    expect(counts(test_)).toEqual(new Array(10).fill(1000));
    expect(counts(train, 10_000)).toEqual([1005, 974, 1032, 1016, 999, 937, 1030, 1001, 1025, 981]);
  });

  test('the tutorial split: 45,000/5,000 with seed 43, the same every time', () => {
    const [a, b] = randomSplit(train, [45_000, 5_000], { seed: 43 });
    const [, again] = randomSplit(train, [45_000, 5_000], { seed: 43 });
    expect([a!.length, b!.length]).toEqual([45_000, 5_000]);
    expect(again!.indices).toEqual(b!.indices);
  });
});
