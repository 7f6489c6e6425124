import { rename, writeFile } from 'node:fs/promises';
import { temporaryPath } from '@rxvision/dataset/node';

/** Writes JSON under a temporary name, then renames: readers never see half a file. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const temporary = temporaryPath(path);
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`);
  await rename(temporary, path);
}
