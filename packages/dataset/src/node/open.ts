import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DatasetError } from '../errors.js';
import { ImageDataset } from '../image-dataset.js';

/** Reads a prepared Arrow file into memory once; images are views into those bytes. */
export async function openImageDataset(path: string): Promise<ImageDataset> {
  const absolute = resolve(path);
  let bytes: Uint8Array;
  try {
    bytes = await readWhole(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? 'does not exist (run `rxvision prepare` first?)' : `cannot be read (${(error as Error).message})`;
    throw new DatasetError(absolute, problem, { cause: error });
  }
  return ImageDataset.fromIPC(bytes, absolute);
}

/** One positioned read per call into an uninitialised buffer: about 1.5x faster than readFile's 512 KiB chunks. */
async function readWhole(path: string): Promise<Uint8Array> {
  const handle = await open(path);
  try {
    const { size } = await handle.stat();
    const bytes = Buffer.allocUnsafe(size);
    for (let offset = 0; offset < size; ) {
      const { bytesRead } = await handle.read(bytes, offset, size - offset, offset);
      if (bytesRead === 0) return bytes.subarray(0, offset); // shrank while reading: Arrow will say what is wrong
      offset += bytesRead;
    }
    return bytes;
  } finally {
    await handle.close();
  }
}
