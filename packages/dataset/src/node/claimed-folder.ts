import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { claimFolder, type FolderClaim, removeEmptyFolders } from '@rxvision/folder';

export interface DataFolderOptions {
  /** How long after this process stops answering (frozen, cut off) its folder may be taken over; default 30 s. */
  readonly staleAfterMs?: number;
  /**
   * The claim on the output's folder, when the caller holds it (to write several files there as
   * one piece of work); without one, the call claims the folder itself for as long as it writes.
   */
  readonly claim?: FolderClaim;
}

/**
 * Runs `write` holding the claim on `folder` (made if missing), so that no other process (on this
 * host or another, in any container) prepares into it at the same time: a second one is refused in
 * one line naming this one. On failure the folders this call made are removed again if empty, never
 * anything another process may have put there.
 */
export async function inClaimedFolder<T>(
  folder: string,
  options: DataFolderOptions & { readonly purpose: string },
  write: (claim: FolderClaim) => Promise<T>,
): Promise<T> {
  const dir = resolve(folder);
  if (options.claim) {
    if (options.claim.folder !== dir) throw new Error(`the claim given is on ${options.claim.folder}, not on ${dir}`);
    return write(options.claim);
  }
  const created = await mkdir(dir, { recursive: true });
  let claim: FolderClaim;
  try {
    claim = await claimFolder(dir, {
      purpose: options.purpose,
      ...(options.staleAfterMs !== undefined && { staleAfterMs: options.staleAfterMs }),
    });
  } catch (error) {
    if (created !== undefined) await removeEmptyFolders(dir, created);
    throw error;
  }
  let succeeded = false;
  try {
    const result = await write(claim);
    succeeded = true;
    return result;
  } finally {
    await claim.release();
    if (!succeeded && created !== undefined) await removeEmptyFolders(dir, created);
  }
}
