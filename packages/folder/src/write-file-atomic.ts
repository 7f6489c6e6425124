import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { syncFolder, writeFileDurably } from './durable-files.js';
import { asOutOfSpace } from './out-of-space.js';

/**
 * Writes `path` whole or not at all: into a temporary of a fresh random token (so no other
 * process, on any host, takes it for its own), flushed to the disk, then renamed (and the rename
 * flushed), so that neither a killed process nor a power loss leaves a partial file. On failure the temporary is removed
 * and a full disk is an OutOfSpaceError. For a file in a folder nobody claims; in a claimed
 * folder, use the claim's `writeFile`.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  return replaceFile(path, data, `${path}.${randomBytes(8).toString('hex')}.tmp`, async () => {});
}

/** `writeFileAtomic` with the temporary given, and `check` run before each step. */
export async function replaceFile(path: string, data: string | Uint8Array, temporary: string, check: () => Promise<void>): Promise<void> {
  try {
    await check();
    await writeFileDurably(temporary, data);
    await check();
    await rename(temporary, path);
    await syncFolder(dirname(path));
  } catch (error) {
    await rm(temporary, { force: true });
    throw await asOutOfSpace(error, {
      folder: dirname(path),
      what: `writing ${path}`,
      neededBytes: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength,
    });
  }
}
