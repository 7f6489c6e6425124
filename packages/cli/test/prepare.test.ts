import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { runCli } from './run-cli.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-cli-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('rxvision prepare', () => {
  test('an unknown flag: one clear line, exit 1', async () => {
    const run = await runCli(['prepare', '--bogus']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe("rxvision: unknown option '--bogus' (see rxvision prepare --help)\n");
  });

  test('a missing source names the path; nothing is written', async () => {
    const data = join(dir, 'data');
    const run = await runCli(['prepare', '--source', join(dir, 'missing.tar.gz'), '--data', data]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe(
      `rxvision: ${join(dir, 'missing.tar.gz')}: does not exist (expected a .tar.gz file, a cifar-10-batches-bin folder or a URL)`,
    );
    expect(await readdir(data).catch(() => [])).toEqual([]);
  });

  test('a file that is not a gzip tarball', async () => {
    const source = join(dir, 'notes.tar.gz');
    await writeFile(source, 'plain text, not gzip');
    const run = await runCli(['prepare', '--source', source, '--data', join(dir, 'data')]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([
      `rxvision: ${source}: is not a gzip file (it does not start with the gzip magic bytes 1f 8b)`,
    ]);
    await expect(readdir(join(dir, 'data'))).rejects.toThrow(/ENOENT/); // the folder prepare made is gone again
  });

  const source = process.env.RXVISION_CIFAR10_SOURCE;
  test.runIf(source)('turns the real tarball into train.arrow and test.arrow, then skips a second time', async () => {
    const data = join(dir, 'data');
    const first = await runCli(['prepare', '--data', data, '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ skipped: false, train: join(data, 'train.arrow') });
    expect((await readdir(data)).sort()).toEqual(['test.arrow', 'train.arrow']);
    const second = await runCli(['prepare', '--source', source!, '--data', data]);
    expect(second.stdout).toMatch(/^already prepared/);
  });
});
