import { constants, type Stats } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { RxvisionError } from '@rxvision/errors';

/** A file that is not one to read: a FIFO, a device, a folder, or one larger than allowed. */
export class UnreadableFileError extends RxvisionError {
  override readonly name = 'UnreadableFileError';
}

const KINDS: [string, (stats: Stats) => boolean][] = [
  ['a folder', (stats) => stats.isDirectory()],
  ['a FIFO', (stats) => stats.isFIFO()],
  ['a socket', (stats) => stats.isSocket()],
  ['a character device', (stats) => stats.isCharacterDevice()],
  ['a block device', (stats) => stats.isBlockDevice()],
];

/**
 * `path` opened for reading, which must be a regular file of at most `maxBytes`. It is opened
 * without blocking and looked at before a byte is read, so a FIFO, a device or a folder named where
 * a file belongs is one line (UnreadableFileError), never a hang or a read without end; so is a
 * symbolic link where `followLink` is false. The caller closes the handle.
 */
export async function openRegularFile(
  path: string,
  maxBytes: number,
  { followLink = true } = {},
): Promise<{ handle: FileHandle; size: number }> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | (followLink ? 0 : constants.O_NOFOLLOW)).catch(
    (error: NodeJS.ErrnoException) => {
      throw error.code === 'ELOOP' && !followLink ? new UnreadableFileError(`${path}: a symbolic link, not a file to read`) : error;
    },
  );
  try {
    const stats = await handle.stat();
    const kind = KINDS.find(([, is]) => is(stats))?.[0];
    if (kind || !stats.isFile()) throw new UnreadableFileError(`${path}: ${kind ?? 'not a regular file'}, not a file to read`);
    if (stats.size > maxBytes)
      throw new UnreadableFileError(`${path}: ${stats.size} bytes, more than the ${maxBytes} such a file may hold`);
    return { handle, size: stats.size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** The bytes of `path`, a regular file of at most `maxBytes` (see openRegularFile). */
export async function readRegularFile(path: string, maxBytes: number): Promise<Buffer> {
  const { handle } = await openRegularFile(path, maxBytes);
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** Writes `path` and flushes it to the disk, so that a rename publishing it survives a power loss. */
export async function writeFileDurably(path: string, data: string | Uint8Array): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Flushes a folder's entries (the renames into it) to the disk. */
export async function syncFolder(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
