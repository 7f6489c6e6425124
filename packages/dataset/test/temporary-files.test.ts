import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { removeStaleTemporaries, temporaryPath } from '../src/node/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-temporaries-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

test('removes the *.<pid>.tmp files and folders of processes that have exited, and nothing else', async () => {
  const exited = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const dead = Number(exited.stdout);
  await writeFile(join(dir, `train.arrow.${dead}.tmp`), 'half');
  await mkdir(join(dir, `checkpoint.${dead}.tmp`, 'model'), { recursive: true });
  await writeFile(temporaryPath(join(dir, 'history.json')), '['); // ours: this process is alive
  await writeFile(join(dir, 'notes.1.txt'), 'not a temporary');
  await writeFile(join(dir, 'train.arrow'), 'kept');
  expect((await removeStaleTemporaries(dir)).sort()).toEqual([`checkpoint.${dead}.tmp`, `train.arrow.${dead}.tmp`]);
  expect((await readdir(dir)).sort()).toEqual([`history.json.${process.pid}.tmp`, 'notes.1.txt', 'train.arrow']);
});

test('a folder that does not exist has none', async () => {
  expect(await removeStaleTemporaries(join(dir, 'nowhere'))).toEqual([]);
});
