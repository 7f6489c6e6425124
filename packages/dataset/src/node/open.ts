import { constants } from 'node:buffer';
import { resolve } from 'node:path';
import { openRegularFile } from '@rxvision/folder';
import { ImageDataset } from '../image-dataset.js';
import { cannotOpen } from './cannot-open.js';

/** Reads a prepared Arrow file into memory once; images are views into those bytes. */
export async function openImageDataset(path: string): Promise<ImageDataset> {
  const absolute = resolve(path);
  let bytes: Uint8Array;
  try {
    bytes = await readWhole(absolute);
  } catch (error) {
    throw cannotOpen(absolute, error);
  }
  return ImageDataset.fromIPC(bytes, absolute);
}

/**
 * One positioned read per call into an uninitialised buffer: about 1.5x faster than readFile's 512
 * KiB chunks. Only a regular file that fits one buffer: a FIFO named as a dataset is one line, not a hang.
 */
async function readWhole(path: string): Promise<Uint8Array> {
  const { handle, size } = await openRegularFile(path, constants.MAX_LENGTH);
  try {
    const bytes = Buffer.allocUnsafe(size);
    for (let offset = 0; offset < size;) {
      const { bytesRead } = await handle.read(bytes, offset, size - offset, offset);
      if (bytesRead === 0) return bytes.subarray(0, offset); // shrank while reading: Arrow will say what is wrong
      offset += bytesRead;
    }
    return bytes;
  } finally {
    await handle.close();
  }
}
