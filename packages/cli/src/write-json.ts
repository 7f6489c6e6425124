import { rename, writeFile } from 'node:fs/promises';

/** Writes JSON under a temporary name, then renames: readers never see half a file. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`);
  await rename(temporary, path);
}
