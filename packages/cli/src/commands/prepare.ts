import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import {
  DATA_SPLITS,
  type DataSplit,
  DataFolder,
  DEFAULT_DATA_DIR,
  type EncodedImagesOptions,
  inClaimedFolder,
  type PreparedImages,
  prepareCifar10,
  prepareCifar100,
  prepareFashionMnist,
  prepareImageFolder,
  prepareParquet,
} from '@rxvision/dataset/node';
import { CliError } from '../cli-error.js';
import { LOCK_DEFAULT, LOCK_FLAG, LOCK_HELP, lockMs } from '../lock-option.js';
import { progressBar } from '../progress.js';

export interface PrepareFlags {
  readonly dataset?: string;
  readonly source?: string;
  readonly data?: string;
  readonly size?: string;
  readonly grey?: boolean;
  readonly labels?: string;
  readonly force?: boolean;
  readonly timeout: string;
  readonly json?: boolean;
  readonly lockSeconds?: string;
}

export function registerPrepare(program: Command): void {
  program
    .command('prepare')
    .description(`fetch, verify and convert a dataset into Arrow files (${DATA_SPLITS.map(DataFolder.fileName).join(', ')})`)
    .option('--dataset <name>', `${DATASETS.join(', ')}`, 'cifar10')
    .option(
      '--source <url|file|dir>',
      "cifar10, cifar100: binary tarball URL, local .tar.gz, or extracted folder (default: $RXVISION_CIFAR10_SOURCE or $RXVISION_CIFAR100_SOURCE, else the official URL); fashion-mnist: the folder of its IDX files (default: Debian's); image-folder: a folder of class folders, or one holding train/ (and test/) folders of them; parquet: a .parquet file, or a folder of train-*.parquet (and test-*.parquet) shards",
    )
    .option('--data <dir>', 'folder for the Arrow files (default data/<dataset>, data/cifar100-<labels>)')
    .option('--labels <fine|coarse>', 'cifar100: the 100 classes or the 20 superclasses', 'fine')
    .option('--size <HxW>', "image-folder: resize every image to H×W pixels (default: all must have the first one's size)")
    .option('--grey', 'image-folder: one grey channel instead of RGB')
    .option('--force', 'convert again even if the files are already prepared, replacing what is there')
    .option('--timeout <seconds>', 'a download that sends nothing for this long fails', '30')
    .option('--json', 'print the result as JSON')
    .option(LOCK_FLAG, LOCK_HELP, LOCK_DEFAULT)
    .action(async (flags: PrepareFlags) => {
      await runPrepare(flags);
    });
}

const DATASETS = ['cifar10', 'cifar100', 'fashion-mnist', 'image-folder', 'parquet'] as const;

export async function runPrepare(flags: PrepareFlags, log: (line: string) => void = console.log): Promise<void> {
  const dataset = flags.dataset ?? 'cifar10';
  if (!(DATASETS as readonly string[]).includes(dataset))
    throw new CliError(`--dataset must be one of ${DATASETS.join(', ')}, got "${dataset}"`);
  const staleAfterMs = lockMs(flags.lockSeconds ?? LOCK_DEFAULT);
  if (dataset !== 'image-folder' && dataset !== 'parquet' && (flags.size !== undefined || flags.grey))
    throw new CliError('--size and --grey apply to --dataset image-folder and parquet only');
  if (dataset === 'fashion-mnist') return prepareFashion(flags, staleAfterMs, log);
  if (dataset === 'image-folder') return prepareFolder(flags, staleAfterMs, log);
  if (dataset === 'parquet') return prepareShards(flags, staleAfterMs, log);
  const labels = flags.labels ?? 'fine';
  if (labels !== 'fine' && labels !== 'coarse') throw new CliError(`--labels must be fine or coarse, got "${labels}"`);
  if (dataset !== 'cifar100' && flags.labels !== undefined && flags.labels !== 'fine')
    throw new CliError('--labels applies to --dataset cifar100 only');
  const timeout = Number(flags.timeout);
  if (!(timeout > 0 && timeout <= 3600))
    throw new CliError(`--timeout must be a number of seconds between 0 and 3600, got "${flags.timeout}"`);
  const started = performance.now();
  const bar = progressBar('prepare', { unit: 'bytes' });
  let result;
  try {
    const options = {
      ...(flags.source !== undefined && { source: flags.source }),
      force: Boolean(flags.force),
      timeoutMs: timeout * 1000,
      staleAfterMs,
      onProgress: ({ bytes, totalBytes }: { bytes: number; totalBytes: number | undefined }) => bar.update(bytes, totalBytes),
    };
    result =
      dataset === 'cifar100'
        ? await prepareCifar100({ ...options, labels, ...(flags.data !== undefined && { dataDir: flags.data }) })
        : await prepareCifar10({ ...options, dataDir: flags.data ?? DEFAULT_DATA_DIR });
  } finally {
    bar.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  if (flags.json) {
    log(JSON.stringify({ ...result, seconds }));
  } else if (result.skipped) {
    log(`already prepared: ${result.train}, ${result.test}`);
  } else {
    log(`prepared ${result.train} and ${result.test} from ${result.source} in ${seconds.toFixed(1)} s`);
  }
}

async function prepareFashion(flags: PrepareFlags, staleAfterMs: number, log: (line: string) => void): Promise<void> {
  const result = await prepareFashionMnist({
    dataDir: flags.data ?? 'data/fashion-mnist',
    force: Boolean(flags.force),
    staleAfterMs,
    ...(flags.source !== undefined && { source: flags.source }),
  });
  if (flags.json) log(JSON.stringify({ train: result.train, test: result.test, skipped: result.skipped }));
  else
    log(
      `${result.skipped ? 'already prepared' : 'prepared'}: ${result.train} (${result.rows.train} images), ${result.test} (${result.rows.test})`,
    );
}

async function prepareFolder(flags: PrepareFlags, staleAfterMs: number, log: (line: string) => void): Promise<void> {
  if (flags.source === undefined)
    throw new CliError('--dataset image-folder needs --source: a folder of class folders, or one holding train/ (and test/)');
  const source = resolve(flags.source);
  const isFolder = (path: string) =>
    stat(path).then(
      (s) => s.isDirectory(),
      () => false,
    );
  // A folder of class folders is the training split; one holding train/ (and test/) has both.
  const splits: [DataSplit, string][] = [['train', source]];
  if (await isFolder(join(source, 'train'))) {
    splits[0] = ['train', join(source, 'train')];
    if (await isFolder(join(source, 'test'))) splits.push(['test', join(source, 'test')]);
  }
  await prepareEncodedSplits(splits, 'data/image-folder', flags, staleAfterMs, log, (folder, options) =>
    prepareImageFolder({ source: folder, ...options }),
  );
}

/** A .parquet file (the training split), or a folder of train-* (and test-*) shards, as the hub lays them out. */
async function prepareShards(flags: PrepareFlags, staleAfterMs: number, log: (line: string) => void): Promise<void> {
  if (flags.source === undefined)
    throw new CliError('--dataset parquet needs --source: a .parquet file, or a folder of train-*.parquet (and test-*.parquet) shards');
  const source = resolve(flags.source);
  const isFolder = await stat(source).then(
    (s) => s.isDirectory(),
    () => false,
  );
  const files = isFolder ? (await readdir(source)).filter((name) => name.endsWith('.parquet')).sort() : [];
  const splits: (readonly [DataSplit, readonly string[]])[] = isFolder
    ? DATA_SPLITS.map((split) => [split, files.filter((name) => name.startsWith(split)).map((name) => join(source, name))] as const).filter(
        ([, shards]) => shards.length > 0,
      )
    : [['train', [source]]];
  if (splits.length === 0 || splits[0]![0] !== 'train') throw new CliError(`${source}: holds no train*.parquet shards`);
  await prepareEncodedSplits(splits, 'data/parquet', flags, staleAfterMs, log, (shards, options) =>
    prepareParquet({ source: shards, ...options }),
  );
}

/**
 * Each split of a dataset stored as encoded images (image folders, Parquet) into `<data>/<split>.arrow`,
 * with a progress bar each and one line (or JSON) for all.
 */
async function prepareEncodedSplits<Source>(
  splits: readonly (readonly [DataSplit, Source])[],
  defaultData: string,
  flags: PrepareFlags,
  staleAfterMs: number,
  log: (line: string) => void,
  prepare: (source: Source, options: EncodedImagesOptions) => Promise<PreparedImages>,
): Promise<void> {
  const size = flags.size === undefined ? undefined : parseSize(flags.size);
  const data = resolve(flags.data ?? defaultData);
  // One claim for every split: no other process prepares into the folder between them.
  const results = await inClaimedFolder(data, { purpose: 'prepare', staleAfterMs }, async (claim) => {
    const prepared: PreparedImages[] = [];
    for (const [split, source] of splits) {
      const bar = progressBar(split, {});
      try {
        const options = {
          out: new DataFolder(data).splitFile(split),
          force: Boolean(flags.force),
          claim,
          ...(size && { size }),
          ...(flags.grey && { channels: 1 as const }),
        };
        prepared.push(await prepare(source, { ...options, onProgress: ({ images, totalImages }) => bar.update(images, totalImages) }));
      } finally {
        bar.stop();
      }
    }
    return prepared;
  });
  if (flags.json) log(JSON.stringify(results));
  else
    for (const r of results)
      log(
        `${r.skipped ? 'already prepared' : 'prepared'}: ${r.path} (${r.rows} images, ${r.shape.join('×')}, classes ${r.classes.join(', ')})`,
      );
}

function parseSize(text: string): [number, number] {
  const match = /^(\d+)x(\d+)$/i.exec(text.trim());
  const [height, width] = match ? [Number(match[1]), Number(match[2])] : [NaN, NaN];
  if (!(height >= 1 && width >= 1 && height <= 4096 && width <= 4096))
    throw new CliError(`--size must be HEIGHTxWIDTH in pixels (1 to 4096), like 64x64, got "${text}"`);
  return [height, width];
}
