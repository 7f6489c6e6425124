import { join } from 'node:path';
import { cifar100, CIFAR100_URL, type Cifar100Labels } from '../cifar100.js';
import { prepareCifar10, type PrepareOptions, type PrepareResult } from './prepare.js';

export const CIFAR100_SOURCE_VARIABLE = 'RXVISION_CIFAR100_SOURCE';

export interface PrepareCifar100Options extends Omit<PrepareOptions, 'spec'> {
  /** The 100 classes (`fine`, default) or the 20 superclasses (`coarse`). */
  readonly labels?: Cifar100Labels;
}

/**
 * CIFAR-100 into `train.arrow` and `test.arrow` (default folder `data/cifar100-fine` or
 * `data/cifar100-coarse`), from the official binary tarball, a folder holding `train.bin` and
 * `test.bin`, or a URL (default `$RXVISION_CIFAR100_SOURCE`, else the official URL). Checks sizes
 * and labels as for CIFAR-10; there are no published checksums to check.
 */
export function prepareCifar100(options: PrepareCifar100Options = {}): Promise<PrepareResult> {
  const labels = options.labels ?? 'fine';
  return prepareCifar10({
    ...options,
    spec: cifar100(labels),
    dataDir: options.dataDir ?? join('data', `cifar100-${labels}`),
    source: options.source ?? process.env[CIFAR100_SOURCE_VARIABLE] ?? CIFAR100_URL,
  });
}
