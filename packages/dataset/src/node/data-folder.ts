import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** A prepared data folder's splits, each one Arrow file. */
export const DATA_SPLITS = ['train', 'test'] as const;
export type DataSplit = (typeof DATA_SPLITS)[number];

/**
 * A prepared data folder: one Arrow file per split, `train.arrow` and `test.arrow`. The one place
 * their names are written; whatever prepares, opens or serves a split asks it.
 */
export class DataFolder {
  readonly path: string;

  constructor(path: string) {
    this.path = resolve(path);
  }

  /** The name of a split's file, as help texts and the dashboard's URLs give it. */
  static fileName(split: DataSplit): string {
    return `${split}.arrow`;
  }

  /** The split whose file is called `name`, or undefined. */
  static splitNamed(name: string): DataSplit | undefined {
    return DATA_SPLITS.find((split) => DataFolder.fileName(split) === name);
  }

  /** The Arrow file of `split`. */
  splitFile(split: DataSplit): string {
    return join(this.path, DataFolder.fileName(split));
  }

  /** The splits whose files are there (prepared, or being replaced whole: writers rename into place). */
  async preparedSplits(): Promise<DataSplit[]> {
    const present = await Promise.all(
      DATA_SPLITS.map((split) =>
        access(this.splitFile(split)).then(
          () => true,
          () => false,
        ),
      ),
    );
    return DATA_SPLITS.filter((_, i) => present[i]);
  }

  /** Whether every split is prepared. */
  async isPrepared(): Promise<boolean> {
    return (await this.preparedSplits()).length === DATA_SPLITS.length;
  }
}
