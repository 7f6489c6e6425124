import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

const TEMPORARY = /^.+\.(\d+)\.tmp$/;

/**
 * Where a file or folder is written before it is renamed into place: `<path>.<pid>.tmp`. The pid
 * tells a later run whether the writer is still alive (see `removeStaleTemporaries`).
 */
export function temporaryPath(path: string): string {
  return `${path}.${process.pid}.tmp`;
}

/**
 * Removes the `*.<pid>.tmp` files and folders in `folder` whose process no longer runs: what a
 * killed run left behind. Those of live processes (another run writing now) stay. Returns the
 * names removed; a folder that does not exist has none.
 */
export async function removeStaleTemporaries(folder: string): Promise<string[]> {
  const names = await readdir(folder).catch(() => [] as string[]);
  const stale = names.filter((name) => {
    const pid = TEMPORARY.exec(name)?.[1];
    return pid !== undefined && !isRunning(Number(pid));
  });
  await Promise.all(stale.map((name) => rm(join(folder, name), { recursive: true, force: true })));
  return stale;
}

function isRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}
