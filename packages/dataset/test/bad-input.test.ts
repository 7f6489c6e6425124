import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tableToIPC, tableFromArrays } from 'apache-arrow';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { DatasetError } from '../src/index.js';
import { openImageDataset, prepareCifar10 } from '../src/node/index.js';
import { encodeRecords, type Fixture, fixtureRecord, listFiles, makeFixture, writeFolder, writeTarball } from './fixtures.js';
import { specialFiles } from './special-files.js';

let fixture: Fixture;
let dataDir: string;
beforeEach(async () => {
  fixture = await makeFixture();
  dataDir = join(fixture.dir, 'out');
});
afterEach(() => fixture.cleanup());

/** The raw files with one of them replaced (or removed, for `undefined`). */
function withFile(name: string, bytes: Uint8Array | undefined): Array<[string, Uint8Array]> {
  return [...fixture.raw.entries()].flatMap(([entry, content]): Array<[string, Uint8Array]> => {
    if (entry !== name) return [[entry, content]];
    return bytes ? [[entry, bytes]] : [];
  });
}

async function expectTarballRejected(entries: Array<[string, Uint8Array]>, message: RegExp): Promise<void> {
  const tarball = await writeTarball(join(fixture.dir, 'bad.tar.gz'), entries);
  const error = await prepareCifar10({ source: tarball, dataDir, spec: fixture.spec }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DatasetError);
  expect((error as DatasetError).message).toMatch(message);
  expect((error as DatasetError).message).toContain(tarball);
  expect(await listFiles(dataDir)).toEqual([]); // nothing half-written
}

describe('prepare rejects bad raw data and leaves no output', () => {
  const batch2 = (): Uint8Array => fixture.raw.get('data_batch_2.bin')!;

  test('a truncated .bin', async () => {
    await expectTarballRejected(
      withFile('data_batch_2.bin', batch2().subarray(0, 30)),
      /data_batch_2\.bin\): is truncated: 30 bytes, expected 52 \(4 records of 13 bytes\)/,
    );
  });

  test('records that are not 1 + pixels bytes long', async () => {
    await expectTarballRejected(withFile('data_batch_2.bin', new Uint8Array(4 * 12)), /data_batch_2\.bin\): records are 12 bytes, not 13/);
  });

  test('a label outside the classes', async () => {
    const records = [fixtureRecord(1, 0), { label: 10, hwc: new Uint8Array(12) }, fixtureRecord(1, 2), fixtureRecord(1, 3)];
    await expectTarballRejected(
      withFile('data_batch_2.bin', encodeRecords(records)),
      /data_batch_2\.bin\): record 1 has label 10, outside 0\.\.9/,
    );
  });

  test('a checksum mismatch', async () => {
    const tampered = batch2().slice();
    tampered[5]! ^= 1;
    await expectTarballRejected(
      withFile('data_batch_2.bin', tampered),
      /data_batch_2\.bin\): checksum mismatch: sha256 [0-9a-f]{64}, expected [0-9a-f]{64}/,
    );
  });

  test('a tarball that lacks a file', async () => {
    await expectTarballRejected(withFile('test_batch.bin', undefined), /: lacks test_batch\.bin$/);
  });

  test('a file that is not gzip', async () => {
    const path = join(fixture.dir, 'plain.tar.gz');
    await writeFile(path, 'this is not a gzip file at all');
    await expect(prepareCifar10({ source: path, dataDir, spec: fixture.spec })).rejects.toThrow(`${path}: is not a gzip file`);
    expect(await listFiles(dataDir)).toEqual([]);
  });

  test('a gzip stream that breaks off', async () => {
    const tarball = await writeTarball(join(fixture.dir, 'cut.tar.gz'), [...fixture.raw.entries()]);
    const { readFile } = await import('node:fs/promises');
    const bytes = await readFile(tarball);
    await writeFile(tarball, bytes.subarray(0, bytes.length - 40));
    await expect(prepareCifar10({ source: tarball, dataDir, spec: fixture.spec })).rejects.toThrow(
      new RegExp(`${tarball}: (is not a valid gzip file|is not a valid tar archive)`),
    );
    expect(await listFiles(dataDir)).toEqual([]);
  });

  test('a folder with a wrong-size file', async () => {
    const folder = await writeFolder(join(fixture.dir, 'raw'), withFile('data_batch_1.bin', new Uint8Array(13 * 6 + 1)));
    await expect(prepareCifar10({ source: folder, dataDir, spec: fixture.spec })).rejects.toThrow(
      /data_batch_1\.bin\): is too long: 79 bytes/,
    );
    expect(await listFiles(dataDir)).toEqual([]);
  });

  test('a folder that lacks a file: the error arrives (the aborted writers settle) and nothing is left', async () => {
    const folder = await writeFolder(join(fixture.dir, 'raw'), withFile('test_batch.bin', undefined));
    await expect(prepareCifar10({ source: folder, dataDir, spec: fixture.spec })).rejects.toThrow(`${folder}: lacks test_batch.bin`);
    expect(await listFiles(dataDir)).toEqual([]);
  }, 5_000);

  test('a data folder holding a damaged file: named, and left as it is', async () => {
    await mkdir(dataDir);
    await writeFile(join(dataDir, 'test.arrow'), 'not arrow');
    const tarball = await writeTarball(join(fixture.dir, 'src.tar.gz'), [...fixture.raw.entries()]);
    await expect(prepareCifar10({ source: tarball, dataDir, spec: fixture.spec })).rejects.toThrow(
      new RegExp(
        `^${join(dataDir, 'test.arrow')}: is not a readable Arrow IPC file \\(.*\\); left as it is \\(move it away, or prepare with force to replace it\\)$`,
      ),
    );
    expect(await listFiles(dataDir)).toEqual(['test.arrow']);
    await prepareCifar10({ source: tarball, dataDir, spec: fixture.spec, force: true });
    expect(await listFiles(dataDir)).toEqual(['test.arrow', 'train.arrow']);
  });

  test('a missing path', async () => {
    const path = join(fixture.dir, 'nowhere.tar.gz');
    await expect(prepareCifar10({ source: path, dataDir, spec: fixture.spec })).rejects.toThrow(`${path}: does not exist`);
  });
});

describe('openImageDataset rejects files it did not write', () => {
  test('a FIFO, a folder or a link to /dev/zero: one line, no hang, no read without end (#34)', async () => {
    const { fifo, folder, zero } = await specialFiles(fixture.dir);
    await expect(openImageDataset(fifo)).rejects.toThrow(new DatasetError(fifo, `cannot be read (${fifo}: a FIFO, not a file to read)`));
    await expect(openImageDataset(folder)).rejects.toThrow(`${folder}: cannot be read (${folder}: a folder, not a file to read)`);
    await expect(openImageDataset(zero)).rejects.toThrow(`${zero}: cannot be read (${zero}: a character device, not a file to read)`);
  });

  test('a missing file', async () => {
    const path = join(fixture.dir, 'none.arrow');
    await expect(openImageDataset(path)).rejects.toThrow(`${path}: does not exist`);
  });

  test('an Arrow file with a different schema', async () => {
    const path = join(fixture.dir, 'other.arrow');
    await writeFile(path, tableToIPC(tableFromArrays({ x: Float32Array.from([1, 2]) }), 'file'));
    await expect(openImageDataset(path)).rejects.toThrow(
      `${path}: not an rxvision image dataset: expected columns "image" and "label", found "x"`,
    );
  });

  test('a file that is not Arrow at all, and a truncated one', async () => {
    const path = join(fixture.dir, 'junk.arrow');
    await writeFile(path, 'definitely not arrow');
    await expect(openImageDataset(path)).rejects.toThrow(`${path}: is not a readable Arrow IPC file`);

    const tarball = await writeTarball(join(fixture.dir, 'src.tar.gz'), [...fixture.raw.entries()]);
    await prepareCifar10({ source: tarball, dataDir, spec: fixture.spec });
    const { readFile } = await import('node:fs/promises');
    const whole = await readFile(join(dataDir, 'train.arrow'));
    const cut = join(fixture.dir, 'cut.arrow');
    await writeFile(cut, whole.subarray(0, whole.length - 100));
    await expect(openImageDataset(cut)).rejects.toThrow(
      new RegExp(`${cut}: (is not a readable Arrow IPC file|holds \\d+ rows but its metadata says 10)`),
    );
  });
});
