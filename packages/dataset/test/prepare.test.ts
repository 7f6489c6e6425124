import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { openImageDataset, prepareCifar10, type PrepareProgress } from '../src/node/index.js';
import { type Fixture, listFiles, makeFixture, writeFolder, writeTarball } from './fixtures.js';

let fixture: Fixture;
beforeEach(async () => {
  fixture = await makeFixture();
});
afterEach(() => fixture.cleanup());

const entries = (): Array<[string, Uint8Array]> => [...fixture.raw.entries()];

async function expectPrepared(dataDir: string): Promise<void> {
  for (const split of ['train', 'test'] as const) {
    const dataset = await openImageDataset(join(dataDir, `${split}.arrow`));
    const expected = fixture.rows[split];
    expect(dataset.length).toBe(expected.length);
    expect(dataset.classes).toEqual(fixture.spec.classes);
    expect(dataset.shape).toEqual([2, 2, 3]);
    expected.forEach((record, row) => {
      expect(dataset.label(row)).toBe(record.label);
      expect(Array.from(dataset.image(row))).toEqual(Array.from(record.hwc));
    });
  }
}

describe('prepareCifar10', () => {
  test('converts a tarball to HWC Arrow files in spec order, whatever the archive order', async () => {
    // The official tarball does not store the batches in order either.
    const tarball = await writeTarball(join(fixture.dir, 'src.tar.gz'), entries().reverse());
    const dataDir = join(fixture.dir, 'out');
    const progress: PrepareProgress[] = [];
    const result = await prepareCifar10({ source: tarball, dataDir, spec: fixture.spec, onProgress: (p) => progress.push(p) });
    expect(result.skipped).toBe(false);
    await expectPrepared(dataDir);
    expect(await listFiles(dataDir)).toEqual(['test.arrow', 'train.arrow']);
    const { size } = await stat(tarball);
    expect(progress.at(-1)).toEqual({ kind: 'tarball', bytes: size, totalBytes: size });
    expect(progress.map((p) => p.bytes)).toEqual([...progress.map((p) => p.bytes)].sort((a, b) => a - b));
  });

  test('reads an extracted folder, or the folder above it', async () => {
    const folder = await writeFolder(join(fixture.dir, 'cifar-10-batches-bin'), entries());
    await prepareCifar10({ source: folder, dataDir: join(fixture.dir, 'a'), spec: fixture.spec });
    await expectPrepared(join(fixture.dir, 'a'));
    await prepareCifar10({ source: fixture.dir, dataDir: join(fixture.dir, 'b'), spec: fixture.spec });
    await expectPrepared(join(fixture.dir, 'b'));
  });

  test('downloads from a URL, reporting progress against Content-Length', async () => {
    const tarball = await readFile(await writeTarball(join(fixture.dir, 'src.tar.gz'), entries()));
    const server: Server = createServer((request, response) => {
      if (request.url !== '/cifar.tar.gz') return void response.writeHead(404).end();
      response.writeHead(200, { 'content-length': tarball.length }).end(tarball);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const dataDir = join(fixture.dir, 'out');
      const progress: PrepareProgress[] = [];
      await prepareCifar10({
        source: `http://127.0.0.1:${port}/cifar.tar.gz`,
        dataDir,
        spec: fixture.spec,
        onProgress: (p) => progress.push(p),
      });
      await expectPrepared(dataDir);
      expect(progress.at(-1)).toEqual({ kind: 'download', bytes: tarball.length, totalBytes: tarball.length });
      await expect(
        prepareCifar10({ source: `http://127.0.0.1:${port}/missing.tar.gz`, dataDir: join(fixture.dir, 'x'), spec: fixture.spec }),
      ).rejects.toThrow(/missing\.tar\.gz: could not be downloaded: HTTP 404/);
    } finally {
      server.close();
    }
  });

  test('a second prepare of the same data does nothing; force rewrites', async () => {
    const tarball = await writeTarball(join(fixture.dir, 'src.tar.gz'), entries());
    const dataDir = join(fixture.dir, 'out');
    await prepareCifar10({ source: tarball, dataDir, spec: fixture.spec });
    const before = (await stat(join(dataDir, 'train.arrow'))).mtimeMs;
    await new Promise((resolve) => setTimeout(resolve, 20));
    const again = await prepareCifar10({ source: tarball, dataDir, spec: fixture.spec });
    expect(again.skipped).toBe(true);
    expect((await stat(join(dataDir, 'train.arrow'))).mtimeMs).toBe(before);
    const forced = await prepareCifar10({ source: tarball, dataDir, spec: fixture.spec, force: true });
    expect(forced.skipped).toBe(false);
    expect((await stat(join(dataDir, 'train.arrow'))).mtimeMs).toBeGreaterThan(before);
  });

  test('files prepared from other raw files are not taken as prepared', async () => {
    const tarball = await writeTarball(join(fixture.dir, 'src.tar.gz'), entries());
    const dataDir = join(fixture.dir, 'out');
    await prepareCifar10({ source: tarball, dataDir, spec: fixture.spec });
    const otherSpec = { ...fixture.spec, files: fixture.spec.files.map((file) => ({ ...file, sha256: file.sha256!.replace(/^./, '0') })) };
    // Not prepared for this spec, and not ours to replace unless forced.
    const trainFile = join(dataDir, 'train.arrow');
    await expect(prepareCifar10({ source: tarball, dataDir, spec: otherSpec })).rejects.toThrow(
      `${trainFile}: was prepared from other versions of data_batch_1.bin, data_batch_2.bin (their sha256 differ); left as it is (move it away, or prepare with force to replace it)`,
    );
    await expect(prepareCifar10({ source: tarball, dataDir, spec: otherSpec, force: true })).rejects.toThrow(/checksum mismatch/);
  });
});
