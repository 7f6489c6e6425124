import { execFileSync } from 'node:child_process';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Where a dataset file belongs, in `dir`: a FIFO, a folder and a link to /dev/zero, none of them a file to read. */
export async function specialFiles(dir: string): Promise<{ fifo: string; folder: string; zero: string }> {
  const [fifo, folder, zero] = ['fifo', 'folder', 'zero'].map((name) => join(dir, `${name}.arrow`)) as [string, string, string];
  execFileSync('mkfifo', [fifo]);
  await mkdir(folder);
  await symlink('/dev/zero', zero);
  return { fifo, folder, zero };
}
