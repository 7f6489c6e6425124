import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimFolder, type FolderClaim } from '@rxvision/folder';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { ImageDataset, imageDatasetSchema, imageRecordBatch } from '../src/index.js';
import { AtomicArrowFile } from '../src/node/atomic-arrow-file.js';
import { openImageDataset } from '../src/node/index.js';

const schema = imageDatasetSchema({ classes: ['a', 'b'], shape: [32, 32, 3], rows: 20000, sources: {} });
const batch = (rows: number) => imageRecordBatch(schema, new Uint8Array(rows * 3072).fill(7), new Uint8Array(rows).fill(1));

let dir: string;
let claim: FolderClaim;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-atomic-'));
  claim = await claimFolder(dir, { purpose: 'test' });
});
afterEach(async () => {
  await claim.release();
  await rm(dir, { recursive: true, force: true });
});

/** Waits until the temporary file has bytes on disk: the writer's stream is then waiting for more. */
async function untilBytesOnDisk(folder: string): Promise<void> {
  for (;;) {
    const name = (await readdir(folder)).find((entry) => entry.endsWith('.tmp'));
    if (name && (await stat(join(folder, name))).size > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('abort after bytes have reached the disk settles and removes the temporary file', async () => {
  const file = new AtomicArrowFile(join(dir, 'x.arrow'), schema, claim);
  file.write(batch(10000));
  await untilBytesOnDisk(dir);
  await new Promise((resolve) => setTimeout(resolve, 50));
  await file.abort(); // used to wait forever: Node then exited with code 13, saying nothing
  expect(await readdir(dir)).toEqual(['writer.lock']);
}, 5_000);

test('commit renames a complete file into place', async () => {
  const path = join(dir, 'x.arrow');
  const file = new AtomicArrowFile(path, schema, claim);
  file.write(batch(10000));
  await untilBytesOnDisk(dir);
  file.write(batch(10000));
  await file.commit();
  expect((await readdir(dir)).sort()).toEqual(['writer.lock', 'x.arrow']);
  const dataset = await openImageDataset(path);
  expect([dataset.length, dataset.label(19999), dataset.image(19999)[3071]]).toEqual([20000, 1, 7]);
  expect(dataset).toBeInstanceOf(ImageDataset);
});

test('a folder it cannot write into: the write error is thrown, and abort still settles', async () => {
  const file = new AtomicArrowFile(join(dir, 'missing-folder', 'x.arrow'), schema, claim);
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(() => file.write(batch(10))).toThrow(/ENOENT/);
  await expect(file.commit()).rejects.toThrow(/ENOENT/);
  await file.abort();
});
