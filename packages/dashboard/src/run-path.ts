import { constants } from 'node:fs';
import { access, open, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { SWEEP_FILES } from '@rxvision/run-folder';
import { RxvisionError } from '@rxvision/errors';

/** A request that names something outside the runs folder, or nothing valid: answered 400. */
export class BadRunName extends RxvisionError {
  override readonly name = 'BadRunName';
}

/** The file that makes a folder of the runs folder a sweep, whose sub-folders are its trials' runs. */
export const SWEEP_FILE = SWEEP_FILES.record;

/**
 * The folder of run `name` inside `root`, or undefined when there is none. A name is a folder name
 * (no separators, not `.` or `..`), or `SWEEP/TRIAL` for a trial of a sweep folder; the folder's real
 * path, links followed, must lie inside the root's: nothing outside the runs folder is ever read.
 */
export async function runFolder(root: string, name: string): Promise<string | undefined> {
  const segments = name.split('/');
  if (segments.length > 2 || segments.some((segment) => segment === '' || segment === '.' || segment === '..' || /[\\\0]/.test(segment)))
    throw new BadRunName(`not a run name: ${JSON.stringify(name)}`);
  const realRoot = await realpath(root);
  const real = await realpath(join(realRoot, ...segments)).catch(() => undefined);
  if (real === undefined) return undefined;
  if (!real.startsWith(realRoot + sep)) throw new BadRunName(`${JSON.stringify(name)} leads outside the runs folder`);
  // Only a sweep's folders hold runs one level down; a file is no run.
  if (segments.length === 2 && !(await isSweep(join(realRoot, segments[0]!)))) return undefined;
  return (await stat(real)).isDirectory() ? real : undefined;
}

export const isSweep = (folder: string): Promise<boolean> =>
  access(join(folder, SWEEP_FILE)).then(
    () => true,
    () => false,
  );

/** A file of a run that is a link, a folder, a device or too large: never read, whatever it points to. */
export class UnservedRunFile extends RxvisionError {
  override readonly name = 'UnservedRunFile';
}

/** Far more than any JSON file or chart a run writes: a larger one is damaged, and read whole it would stall every request. */
export const RUN_FILE_MAX_BYTES = 64 << 20;

/**
 * The bytes of `file` in run folder `folder` (a real path, from runFolder), or undefined when there is
 * no such file. Only a regular file is read: the file is opened without following a link (O_NOFOLLOW)
 * and checked once open, so a `loss.png` linked to /etc/shadow, or swapped for a link after a check,
 * is refused rather than served; so is one over `maxBytes`.
 */
export async function readRunFile(folder: string, file: string, maxBytes = RUN_FILE_MAX_BYTES): Promise<Buffer | undefined> {
  if (file.includes('/') || file.includes('\\') || file === '.' || file === '..')
    throw new BadRunName(`not a file name: ${JSON.stringify(file)}`);
  let handle;
  try {
    handle = await open(join(folder, file), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new UnservedRunFile(`${file} is a link, which the dashboard does not follow`);
    throw error;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new UnservedRunFile(`${file} is not a regular file`);
    if (stats.size > maxBytes)
      throw new UnservedRunFile(
        `${file} holds ${megabytes(stats.size)}, more than the ${megabytes(maxBytes)} the dashboard reads of a run file`,
      );
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

const megabytes = (bytes: number) => `${Math.ceil(bytes / 2 ** 20).toLocaleString('en-US')} MB`;
