import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CIFAR100_COARSE_CLASSES, CIFAR100_FINE_CLASSES } from '../src/index.js';
import { openImageDataset, prepareCifar100 } from '../src/node/index.js';

const PIXELS = 32 * 32 * 3;
const RECORD = 2 + PIXELS;
const coarse = (r: number) => r % 20;
const fine = (r: number) => (r * 7) % 100;
/** Pixel p of record r, as stored in the raw planes (CHW). */
const planeValue = (r: number, p: number) => (r * 3 + p * 5) & 0xff;

/** A raw file in the official layout: coarse byte, fine byte, then the R, G and B planes. */
function rawFile(records: number, firstRecord: number): Uint8Array {
  const bytes = new Uint8Array(records * RECORD);
  for (let i = 0; i < records; i++) {
    const r = firstRecord + i;
    const base = i * RECORD;
    bytes[base] = coarse(r);
    bytes[base + 1] = fine(r);
    for (let p = 0; p < PIXELS; p++) bytes[base + 2 + p] = planeValue(r, p);
  }
  return bytes;
}

let dir: string;
let source: string;
const sha256: Record<string, string> = {};
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-cifar100-'));
  source = join(dir, 'cifar-100-binary');
  await mkdir(source);
  // Full size: the spec knows the official record counts and refuses anything else.
  for (const [name, records, first] of [
    ['train.bin', 50_000, 0],
    ['test.bin', 10_000, 50_000],
  ] as const) {
    const bytes = rawFile(records, first);
    sha256[name] = createHash('sha256').update(bytes).digest('hex');
    await writeFile(join(source, name), bytes);
  }
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('prepareCifar100', () => {
  test("fine and coarse labels from the same raw files, pixels interleaved, the raw files' sha256 recorded", async () => {
    for (const labels of ['fine', 'coarse'] as const) {
      const dataDir = join(dir, labels);
      const result = await prepareCifar100({ source, dataDir, labels });
      expect(result.skipped).toBe(false);
      const train = await openImageDataset(result.train);
      const test = await openImageDataset(result.test);
      expect([train.length, test.length, train.shape]).toEqual([50_000, 10_000, [32, 32, 3]]);
      expect(train.classes).toEqual(labels === 'fine' ? CIFAR100_FINE_CLASSES : CIFAR100_COARSE_CLASSES);
      const label = labels === 'fine' ? fine : coarse;
      for (const row of [0, 1, 12_345, 49_999]) expect(train.label(row)).toBe(label(row));
      expect(test.label(9_999)).toBe(label(59_999));
      // HWC: pixel 5's green value is the G plane's element 5.
      expect(train.image(12_345)[5 * 3 + 1]).toBe(planeValue(12_345, 1024 + 5));
      expect([train.sources, test.sources]).toEqual([{ 'train.bin': sha256['train.bin'] }, { 'test.bin': sha256['test.bin'] }]);
      expect((await prepareCifar100({ source, dataDir, labels })).skipped).toBe(true);
    }
  }, 120_000);

  test('the other labels asked of a prepared folder fail in one line and leave the files as they are', async () => {
    const dataDir = join(dir, 'fine');
    const before = await readdir(dataDir);
    await expect(prepareCifar100({ source, dataDir, labels: 'coarse' })).rejects.toThrow(
      `${join(dataDir, 'train.arrow')}: holds 100 other classes (apple, aquarium_fish, baby, …), not 20 (aquatic_mammals, fish, flowers, …); left as it is`,
    );
    expect(await readdir(dataDir)).toEqual(before);
  });

  test('a label outside the classes is refused, naming the file and the record', async () => {
    const bad = join(dir, 'bad-source');
    await mkdir(bad);
    const train = rawFile(50_000, 0);
    train[7 * RECORD + 1] = 100; // record 7's fine label
    await writeFile(join(bad, 'train.bin'), train);
    await writeFile(join(bad, 'test.bin'), rawFile(10_000, 50_000));
    const dataDir = join(dir, 'bad-out');
    await expect(prepareCifar100({ source: bad, dataDir })).rejects.toThrow(`${bad} (train.bin): record 7 has label 100, outside 0..99`);
    await expect(readdir(dataDir)).rejects.toThrow('ENOENT');
  }, 60_000);
});
