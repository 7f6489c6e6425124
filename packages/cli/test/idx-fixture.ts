import { writeFile } from 'node:fs/promises';

/** Writes an IDX file of unsigned bytes (MNIST's format: magic 0 0 8 rank, big-endian sizes, data). */
export async function writeIdx(path: string, dims: readonly number[], data: Uint8Array): Promise<void> {
  const header = new Uint8Array(4 + 4 * dims.length);
  header.set([0, 0, 8, dims.length]);
  dims.forEach((size, i) => new DataView(header.buffer).setUint32(4 + 4 * i, size));
  await writeFile(path, Uint8Array.from([...header, ...data]));
}
