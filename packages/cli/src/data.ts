import { join } from 'node:path';
import type { ImageDataset } from '@rxvision/dataset';
import { openImageDataset, prepareCifar10 } from '@rxvision/dataset/node';
import { progressBar } from './progress.js';

/** Prepares CIFAR-10 under `dataDir` if needed (with a progress bar), then opens both splits. */
export async function loadCifar10(dataDir: string): Promise<{ train: ImageDataset; test: ImageDataset }> {
  const bar = progressBar('prepare', { unit: 'bytes' });
  try {
    await prepareCifar10({ dataDir, onProgress: ({ bytes, totalBytes }) => bar.update(bytes, totalBytes) });
  } finally {
    bar.stop();
  }
  const [train, test] = await Promise.all([openImageDataset(join(dataDir, 'train.arrow')), openImageDataset(join(dataDir, 'test.arrow'))]);
  return { train, test };
}
