import { realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';

/** A request that names something outside the runs folder, or nothing valid: answered 400. */
export class BadRunName extends Error {
  override readonly name = 'BadRunName';
}

/**
 * The folder of run `name` inside `root`, or undefined when there is none. A name is one folder
 * name (no separators, not `.` or `..`), and the folder's real path, links followed, must lie
 * inside the root's: nothing outside the runs folder is ever read.
 */
export async function runFolder(root: string, name: string): Promise<string | undefined> {
  if (name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name)) throw new BadRunName(`not a run name: ${JSON.stringify(name)}`);
  const realRoot = await realpath(root);
  const real = await realpath(join(realRoot, name)).catch(() => undefined);
  if (real === undefined) return undefined;
  if (!real.startsWith(realRoot + sep)) throw new BadRunName(`${JSON.stringify(name)} leads outside the runs folder`);
  return real;
}
