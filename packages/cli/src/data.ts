import { join } from 'node:path';
import type { ImageDataset } from '@rxvision/dataset';
import { openImageDataset, prepareCifar10 } from '@rxvision/dataset/node';
import { progressBar } from './progress.js';

type Split = 'train' | 'test';

/**
 * Prepares CIFAR-10 under `dataDir` if needed (with a progress bar), then opens the splits asked
 * for, and only those: each open reads its whole file.
 */
export async function loadCifar10<S extends Split>(dataDir: string, splits: readonly S[]): Promise<Record<S, ImageDataset>> {
  const bar = progressBar('prepare', { unit: 'bytes' });
  try {
    await prepareCifar10({ dataDir, onProgress: ({ bytes, totalBytes }) => bar.update(bytes, totalBytes) });
  } finally {
    bar.stop();
  }
  const opened = await Promise.all(splits.map((split) => openImageDataset(join(dataDir, `${split}.arrow`))));
  return Object.fromEntries(splits.map((split, i) => [split, opened[i]!])) as Record<S, ImageDataset>;
}
