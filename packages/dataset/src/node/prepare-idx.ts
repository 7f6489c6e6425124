import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DatasetError } from '../errors.js';
import { parseIdx } from '../idx.js';
import { imageRecordBatch } from '../record-batch.js';
import { imageDatasetSchema } from '../schema.js';
import { asOutOfSpace } from '@rxvision/folder';
import { AtomicArrowFile } from './atomic-arrow-file.js';
import { type DataFolderOptions, inClaimedFolder } from './claimed-folder.js';
import { preparedState } from './prepared-state.js';

export interface PrepareIdxOptions extends DataFolderOptions {
  /** IDX images `[n, height, width]` (or `[n, height, width, channels]`), gzipped or not. */
  readonly images: string;
  /** IDX labels `[n]`, gzipped or not. */
  readonly labels: string;
  readonly classes: readonly string[];
  /** The Arrow file to write; never one of the sources. */
  readonly out: string;
  /** Replace an existing `out` that is not this prepared dataset. */
  readonly force?: boolean;
}

export interface PrepareIdxResult {
  readonly path: string;
  readonly rows: number;
  readonly shape: readonly [number, number, number];
  /** True when `out` already held this dataset, prepared from the same source files. */
  readonly skipped: boolean;
}

const ROWS_PER_BATCH = 10_000;

/**
 * Turns a pair of MNIST-format IDX files (MNIST, Fashion-MNIST, KMNIST, …) into an rxvision Arrow
 * file, atomically: the file appears whole or not at all. Sources are identified by sha256 in the
 * file's metadata, so running it again is a no-op.
 */
export async function prepareIdx(options: PrepareIdxOptions): Promise<PrepareIdxResult> {
  const out = resolve(options.out);
  const [imagesPath, labelsPath] = [resolve(options.images), resolve(options.labels)];
  if (out === imagesPath || out === labelsPath) throw new DatasetError(out, 'is a source of this dataset; write it somewhere else');
  const [images, labels] = await Promise.all([readIdx(imagesPath), readIdx(labelsPath)]);
  const [rows, height, width, channels = 1] = images.idx.dims;
  if (images.idx.dims.length < 3 || images.idx.dims.length > 4)
    throw new DatasetError(
      imagesPath,
      `holds an IDX array of ${images.idx.dims.length} dimensions; images are [n, height, width] or [n, height, width, channels]`,
    );
  if (labels.idx.dims.length !== 1)
    throw new DatasetError(labelsPath, `holds an IDX array of ${labels.idx.dims.length} dimensions; labels are [n]`);
  if (labels.idx.dims[0] !== rows)
    throw new DatasetError(labelsPath, `holds ${labels.idx.dims[0]} labels for ${rows} images in ${imagesPath}`);
  const tooLarge = labels.idx.values.findIndex((label) => label >= options.classes.length);
  if (tooLarge >= 0)
    throw new DatasetError(
      labelsPath,
      `label ${labels.idx.values[tooLarge]} at row ${tooLarge} has no class: ${options.classes.length} class names given`,
    );
  const shape = [height!, width!, channels] as const;
  const sources = { [images.name]: images.sha256, [labels.name]: labels.sha256 };

  return inClaimedFolder(dirname(out), { ...options, purpose: 'prepare' }, async (claim) => {
    const state = await preparedState(out, sources, rows!);
    if (state === 'prepared') return { path: out, rows: rows!, shape, skipped: true };
    if (state !== 'missing' && !options.force)
      throw new DatasetError(out, 'exists and is not this dataset; left as it is (move it away, or prepare with force to replace it)');
    const schema = imageDatasetSchema({ classes: [...options.classes], shape, rows: rows!, sources });
    const writer = new AtomicArrowFile(out, schema, claim);
    const perImage = height! * width! * channels;
    try {
      for (let start = 0; start < rows!; start += ROWS_PER_BATCH) {
        const end = Math.min(rows!, start + ROWS_PER_BATCH);
        writer.write(
          imageRecordBatch(schema, images.idx.values.subarray(start * perImage, end * perImage), labels.idx.values.subarray(start, end)),
        );
      }
      await writer.finish();
      await writer.commit();
    } catch (error) {
      await writer.abort();
      throw await asOutOfSpace(error, { folder: dirname(out), what: `writing ${basename(out)}`, neededBytes: rows! * (perImage + 1) });
    }
    return { path: out, rows: rows!, shape, skipped: false };
  });
}

async function readIdx(path: string) {
  let bytes: Uint8Array = await readFile(path);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      throw new DatasetError(path, `is a damaged gzip file (${(error as Error).message})`);
    }
  }
  const idx = parseIdx(bytes);
  if (typeof idx === 'string') throw new DatasetError(path, idx);
  return { idx, sha256, name: path.split('/').at(-1)! };
}
