import { DatasetError, type ImageDataset } from '@rxvision/dataset';
import { DataFolder, openImageDataset, prepareCifar10 } from '@rxvision/dataset/node';
import { pathExists } from './path-exists.js';
import { progressBar } from './progress.js';

type Split = 'train' | 'test';

/**
 * Opens the splits asked for, and only those (each open reads its whole file). Only when none of
 * them exists yet is CIFAR-10 prepared first (with a progress bar): a file that is there is the
 * user's, so a damaged one is reported as it is, never downloaded over.
 */
export async function loadCifar10<S extends Split>(dataDir: string, splits: readonly S[]): Promise<Record<S, ImageDataset>> {
  const folder = new DataFolder(dataDir);
  const paths = splits.map((split) => folder.splitFile(split));
  const present = await Promise.all(paths.map(pathExists));
  if (!present.every(Boolean)) {
    const bar = progressBar('prepare', { unit: 'bytes' });
    try {
      await prepareCifar10({ dataDir, onProgress: ({ bytes, totalBytes }) => bar.update(bytes, totalBytes) });
    } finally {
      bar.stop();
    }
  }
  const opened = await Promise.all(paths.map((path) => openImageDataset(path)));
  opened.forEach((dataset, i) => {
    if (dataset.length === 0) throw new DatasetError(paths[i]!, 'holds no images');
  });
  return Object.fromEntries(splits.map((split, i) => [split, opened[i]!])) as Record<S, ImageDataset>;
}
