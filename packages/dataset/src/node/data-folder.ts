import { join } from 'node:path';

/**
 * A prepared data folder: one Arrow file per split, `train.arrow` and `test.arrow`. The one place
 * their names are written; whatever prepares, opens or serves a split asks `dataSplitFile`.
 */
export const DATA_SPLITS = ['train', 'test'] as const;
export type DataSplit = (typeof DATA_SPLITS)[number];

/** The Arrow file of `split` in data folder `dataDir`. */
export function dataSplitFile(dataDir: string, split: DataSplit): string {
  return join(dataDir, `${split}.arrow`);
}
