import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { DatasetError } from '../errors.js';

/** One raw file found in a source, to be read once, in full, before asking for the next. */
export interface RawFile {
  readonly name: string;
  /** Known up front for folders and tarballs, so a wrong size fails before any decoding. */
  readonly size: number;
  readonly content: AsyncIterable<Uint8Array>;
}

/** Bytes of the source read so far, for progress bars. */
export type OnBytes = (bytes: number) => void;

/** Yields the regular files in a gzipped tarball, streaming: the archive is never held whole. */
export async function* tarballFiles(input: Readable, label: string, onBytes: OnBytes): AsyncGenerator<RawFile> {
  const gunzip = createGunzip();
  const entries = extract();
  let read = 0;
  let checkedMagic = false;
  const fail = (problem: string, cause?: unknown): void => {
    entries.destroy(new DatasetError(label, problem, { cause }));
  };
  input.on('data', (chunk: Buffer) => {
    if (!checkedMagic) {
      checkedMagic = true;
      if (chunk.length >= 2 && (chunk[0] !== 0x1f || chunk[1] !== 0x8b)) {
        fail('is not a gzip file (it does not start with the gzip magic bytes 1f 8b)');
        input.destroy();
        return;
      }
    }
    read += chunk.length;
    onBytes(read);
  });
  input.on('error', (error) =>
    error instanceof DatasetError ? entries.destroy(error) : fail(`could not be read (${error.message})`, error),
  );
  gunzip.on('error', (error) => fail(`is not a valid gzip file (${error.message})`, error));
  input.pipe(gunzip).pipe(entries);
  try {
    for await (const entry of entries) {
      if (entry.header.type !== 'file') {
        entry.resume();
        continue;
      }
      yield { name: basename(entry.header.name), size: entry.header.size ?? 0, content: entry as AsyncIterable<Uint8Array> };
      entry.resume(); // drains whatever the consumer left unread, so the archive moves on
    }
  } catch (error) {
    if (error instanceof DatasetError) throw error;
    throw new DatasetError(label, `is not a valid tar archive (${(error as Error).message})`, { cause: error });
  } finally {
    input.destroy();
  }
}

/**
 * Yields the files `names` of a folder found by `findRawFolder`, so that unrelated files are
 * never opened.
 */
export async function* folderFiles(root: string, names: readonly string[], onBytes: OnBytes): AsyncGenerator<RawFile> {
  let read = 0;
  for (const name of names) {
    const path = join(root, name);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) continue; // reported as missing by the caller, with every missing name
    const content = createReadStream(path);
    content.on('data', (chunk) => onBytes((read += chunk.length)));
    yield { name, size: info.size, content };
  }
}

/** Sum of the sizes of `names` in the folder, for a progress bar's total. */
export async function folderSize(root: string, names: readonly string[]): Promise<number> {
  const sizes = await Promise.all(
    names.map((name) =>
      stat(join(root, name)).then(
        (info) => info.size,
        () => 0,
      ),
    ),
  );
  return sizes.reduce((sum, size) => sum + size, 0);
}

/** The folder that holds the raw files: `folder` itself, or the `cifar-10-batches-bin/` inside it. */
export async function findRawFolder(folder: string, names: readonly string[]): Promise<string> {
  const entries = await readdir(folder).catch((error: Error) => {
    throw new DatasetError(folder, `cannot be read (${error.message})`, { cause: error });
  });
  if (names.some((name) => entries.includes(name))) return folder;
  const nested = join(folder, 'cifar-10-batches-bin');
  return entries.includes('cifar-10-batches-bin') ? nested : folder;
}
