import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConcatenatedImages } from '../concat-images.js';
import { DatasetError } from '../errors.js';
import type { LabeledImages } from '../labeled-images.js';
import { cannotOpen } from './cannot-open.js';
import { DiskImageDataset } from './disk-image-dataset.js';
import { openImageDataset } from './open.js';

export interface OpenImagesOptions {
  /**
   * Files that together hold at most this many bytes are read into memory (fastest, and images are
   * views); larger datasets are read from disk image by image. Default 1 GiB.
   */
  readonly maxInMemoryBytes?: number;
}

/** A dataset opened by `openImages`: one file or several read as one. */
export interface OpenedImages extends LabeledImages {
  /** Whether the images were read into memory or are read from disk as they are used. */
  readonly storage: 'memory' | 'disk';
  /** Releases the files (a no-op for datasets in memory). */
  close(): Promise<void>;
}

export const DEFAULT_MAX_IN_MEMORY_BYTES = 2 ** 30;

/**
 * Opens a prepared dataset stored in one Arrow file or several (shards of one shape and class
 * list, read in the order given). Small datasets are loaded whole; one larger than
 * `maxInMemoryBytes` streams from disk by positional reads, so memory stays bounded whatever its size.
 */
export async function openImages(paths: string | readonly string[], options: OpenImagesOptions = {}): Promise<OpenedImages> {
  const files = (typeof paths === 'string' ? [paths] : [...paths]).map((path) => resolve(path));
  if (files.length === 0) throw new DatasetError('datasets', 'no file to open');
  const sizes = await Promise.all(
    files.map(async (file) => {
      try {
        return (await stat(file)).size;
      } catch (error) {
        throw cannotOpen(file, error);
      }
    }),
  );
  const fromDisk = sizes.reduce((sum, size) => sum + size, 0) > (options.maxInMemoryBytes ?? DEFAULT_MAX_IN_MEMORY_BYTES);
  const parts: (LabeledImages & { close?: () => Promise<void> })[] = [];
  try {
    for (const file of files) parts.push(fromDisk ? await DiskImageDataset.open(file) : await openImageDataset(file));
    return new Opened(parts.length === 1 ? parts[0]! : new ConcatenatedImages(parts, files), fromDisk ? 'disk' : 'memory', parts);
  } catch (error) {
    await closeAll(parts);
    throw error;
  }
}

class Opened implements OpenedImages {
  readonly length: number;
  readonly classes: readonly string[];
  readonly shape: LabeledImages['shape'];
  readonly labelSet: LabeledImages['labelSet'];

  constructor(
    readonly images: LabeledImages,
    readonly storage: 'memory' | 'disk',
    readonly parts: readonly { close?: () => Promise<void> }[],
  ) {
    this.length = images.length;
    this.classes = images.classes;
    this.shape = images.shape;
    this.labelSet = images.labelSet?.bind(images);
  }

  image(index: number): Uint8Array {
    return this.images.image(index);
  }

  label(index: number): number {
    return this.images.label(index);
  }

  close(): Promise<void> {
    return closeAll(this.parts);
  }
}

async function closeAll(parts: readonly { close?: () => Promise<void> }[]): Promise<void> {
  await Promise.all(parts.map((part) => part.close?.()));
}
