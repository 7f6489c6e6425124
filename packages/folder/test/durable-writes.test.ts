import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

// A file published by a rename survives a power loss only if its data reached the disk before the
// rename and the folder's entry after it (#34: renames had no fsync). A power loss cannot be had
// here; the system calls can: the writes run under strace, and the order of fsync and rename is read.
let dir: string;
let calls: string[];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-durable-'));
  await mkdir(join(dir, 'claimed'));
  await mkdir(join(dir, 'unclaimed'));
  const log = join(dir, 'strace.log');
  const writer = fileURLToPath(new URL('./durable-writer.js', import.meta.url));
  execFileSync('strace', [
    '-f',
    '-qq',
    '-e',
    'trace=openat,fsync,fdatasync,rename,renameat,renameat2',
    '-o',
    log,
    process.execPath,
    writer,
    join(dir, 'claimed'),
    join(dir, 'unclaimed'),
  ]);
  calls = (await readFile(log, 'utf8')).split('\n').map((line) => line.replace(/^\d+\s+/, ''));
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Where the file opened at `path` (first) is flushed, where `from` is renamed onto `to`, and where the folder is then flushed. */
function order(path: RegExp, to: string, folder: string) {
  const opened = calls.findIndex((call) => call.startsWith('openat(') && path.test(call) && / = \d+$/.test(call));
  expect(opened, `no openat of ${path}`).toBeGreaterThanOrEqual(0);
  const fd = calls[opened]!.match(/ = (\d+)$/)![1];
  const flushed = calls.findIndex((call, i) => i > opened && new RegExp(`^f(data)?sync\\(${fd}\\)`).test(call));
  const renamed = calls.findIndex((call) => /^rename(at2?)?\(/.test(call) && call.includes(`"${to}"`));
  const folderOpened = calls.findIndex(
    (call, i) => i > renamed && call.startsWith('openat(') && call.includes(`"${folder}"`) && / = \d+$/.test(call),
  );
  const folderFd = folderOpened < 0 ? undefined : calls[folderOpened]!.match(/ = (\d+)$/)![1];
  const folderFlushed = calls.findIndex((call, i) => i > folderOpened && new RegExp(`^f(data)?sync\\(${folderFd}\\)`).test(call));
  return {
    flushedBeforeRename: flushed >= 0 && renamed >= 0 && flushed < renamed,
    folderFlushedAfter: folderOpened > renamed && folderFlushed > folderOpened,
  };
}

describe.runIf(process.platform === 'linux')('durable writes, seen as system calls', () => {
  test("a claim's write: the temporary is flushed before its rename, and the folder after", () => {
    const folder = join(dir, 'claimed');
    expect(order(/history\.json\.[0-9a-f]+\.tmp"/, join(folder, 'history.json'), folder)).toEqual({
      flushedBeforeRename: true,
      folderFlushedAfter: true,
    });
  });

  test('writeFileAtomic: the same', () => {
    const folder = join(dir, 'unclaimed');
    expect(order(/summary\.json\.[0-9a-f]+\.tmp"/, join(folder, 'summary.json'), folder)).toEqual({
      flushedBeforeRename: true,
      folderFlushedAfter: true,
    });
  });
});
