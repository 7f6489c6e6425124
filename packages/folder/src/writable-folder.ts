import { access, constants, mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { RxvisionError } from '@rxvision/errors';

/** A folder this process may not write into; the message names it. */
export class FolderAccessError extends RxvisionError {
  override readonly name = 'FolderAccessError';
}

/**
 * Makes `path` (and its parents) if missing and checks that this process can write into it, before
 * any work starts. `created` is the outermost folder this call made, for `removeEmptyFolders` when
 * the work fails. A folder that cannot be made is Node's file-system error, as `mkdir` throws it.
 */
export async function makeWritableFolder(path: string): Promise<{ folder: string; created: string | undefined }> {
  const folder = resolve(path);
  const created = await mkdir(folder, { recursive: true });
  await access(folder, constants.W_OK).catch(() => {
    throw new FolderAccessError(`cannot write into ${folder}: permission denied`);
  });
  return { folder, created };
}
