import { rename, writeFile } from 'node:fs/promises';
import { temporaryPath } from '@rxvision/dataset/node';

/** Writes under a temporary name, then renames: readers never see half a file. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = temporaryPath(path);
  await writeFile(temporary, data);
  await rename(temporary, path);
}

/** JSON, written as `writeFileAtomic` writes. */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}
