import { constants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';

/** A file that is not one to read: a FIFO, a device, a folder, or one larger than allowed. */
export class UnreadableFileError extends Error {
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
 * The bytes of `path`, which must be a regular file of at most `maxBytes`. It is opened without
 * blocking and looked at before a byte is read, so a FIFO, a device or a folder named where a
 * file belongs is one line (UnreadableFileError), never a hang or a read without end.
 */
export async function readRegularFile(path: string, maxBytes: number): Promise<Buffer> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stats = await handle.stat();
    const kind = KINDS.find(([, is]) => is(stats))?.[0];
    if (kind || !stats.isFile()) throw new UnreadableFileError(`${path}: ${kind ?? 'not a regular file'}, not a file to read`);
    if (stats.size > maxBytes) throw new UnreadableFileError(`${path}: ${stats.size} bytes, more than the ${maxBytes} such a file may hold`);
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
