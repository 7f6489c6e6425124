import { join, resolve } from 'node:path';
import { type DataFolderOptions, inClaimedFolder } from './claimed-folder.js';
import { prepareIdx } from './prepare-idx.js';
import type { PrepareResult } from './prepare.js';
import { DataFolder, type DataSplit } from './data-folder.js';

/** Fashion-MNIST's classes, in label order (github.com/zalandoresearch/fashion-mnist). */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

/** Where Debian's `dataset-fashion-mnist` package puts the files. */
export const DEBIAN_FASHION_MNIST = '/usr/share/datasets/fashion-mnist';

export interface PrepareFashionMnistOptions extends DataFolderOptions {
  /** The folder holding the four `*-idx?-ubyte.gz` files; default Debian's. */
  readonly source?: string;
  /** Where `train.arrow` and `test.arrow` go; default `data/fashion-mnist`. */
  readonly dataDir?: string;
  readonly force?: boolean;
}

/** Fashion-MNIST (28×28 grey, 60,000 + 10,000) as `train.arrow` and `test.arrow`; the same result as `prepareCifar10`'s. */
export async function prepareFashionMnist(options: PrepareFashionMnistOptions = {}): Promise<PrepareResult> {
  const source = options.source ?? DEBIAN_FASHION_MNIST;
  const dataDir = resolve(options.dataDir ?? 'data/fashion-mnist');
  // One claim for both files: no other process prepares into the folder between them.
  return inClaimedFolder(dataDir, { ...options, purpose: 'prepare' }, async (claim) => {
    const split = (prefix: string, name: DataSplit) =>
      prepareIdx({
        images: join(source, `${prefix}-images-idx3-ubyte.gz`),
        labels: join(source, `${prefix}-labels-idx1-ubyte.gz`),
        classes: FASHION_MNIST_CLASSES,
        out: new DataFolder(dataDir).splitFile(name),
        ...(options.force !== undefined && { force: options.force }),
        claim,
      });
    const [train, test] = [await split('train', 'train'), await split('t10k', 'test')];
    return {
      train: train.path,
      test: test.path,
      rows: { train: train.rows, test: test.rows },
      skipped: train.skipped && test.skipped,
      source: resolve(source),
    };
  });
}
