import { rmdir } from 'node:fs/promises';
import { dirname, sep } from 'node:path';

/**
 * Removes `folder` and its parents up to `created` (what `mkdir -p` returned: the outermost folder
 * it made), each only while empty: what a failed command made goes, anything another process put
 * there stays. Never throws.
 */
export async function removeEmptyFolders(folder: string, created: string): Promise<void> {
  for (let current = folder; current === created || current.startsWith(`${created}${sep}`); current = dirname(current)) {
    if (
      !(await rmdir(current).then(
        () => true,
        () => false,
      ))
    )
      return;
  }
}
