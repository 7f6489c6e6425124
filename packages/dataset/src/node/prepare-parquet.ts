import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import {
  type AsyncBuffer,
  asyncBufferFromFile,
  type FileMetaData,
  parquetMetadataAsync,
  parquetReadObjects,
  parquetSchema,
} from 'hyparquet';
import { DatasetError } from '../errors.js';
import type { ImageShape } from '../schema.js';
import type { EncodedImagesOptions, PreparedImages } from './encoded-images.js';
import { ImageDatasetWriter } from './image-dataset-writer.js';
import { loadImageDecoder } from './image-decoder.js';
import { preparedState } from './prepared-state.js';
import { inClaimedFolder } from './claimed-folder.js';

export interface PrepareParquetOptions extends EncodedImagesOptions {
  /** One Parquet file, or the shards of one split in order (as the Hugging Face hub stores them). */
  readonly source: string | readonly string[];
  /** The image column: a struct of `bytes` (PNG, JPEG or WebP) and `path`, or plain bytes; default `image`. */
  readonly imageColumn?: string;
  /** The integer label column; default `label`. Class names come from the file's Hugging Face metadata. */
  readonly labelColumn?: string;
}

export type PrepareParquetResult = PreparedImages;

interface Shard {
  readonly path: string;
  readonly file: AsyncBuffer;
  readonly metadata: FileMetaData;
}

/**
 * Parquet image datasets as the Hugging Face hub stores them (an `image` struct of `bytes` and
 * `path`, an integer `label`, class names in the `huggingface` key-value metadata) into an
 * rxvision Arrow file, read with hyparquet one row group at a time: memory stays bounded by a row
 * group and a record batch, whatever the size of the files.
 */
export async function prepareParquet(options: PrepareParquetOptions): Promise<PrepareParquetResult> {
  const paths = (typeof options.source === 'string' ? [options.source] : [...options.source]).map((path) => resolve(path));
  const out = resolve(options.out);
  if (paths.length === 0) throw new DatasetError(out, 'no Parquet files to prepare it from');
  if (paths.includes(out)) throw new DatasetError(out, 'is a source of this dataset; write it somewhere else');
  const imageColumn = options.imageColumn ?? 'image';
  const labelColumn = options.labelColumn ?? 'label';
  const shards = await Promise.all(paths.map(openShard));
  for (const shard of shards) checkColumns(shard, imageColumn, labelColumn);
  const rows = shards.reduce((sum, shard) => sum + Number(shard.metadata.num_rows), 0);
  if (rows === 0) throw new DatasetError(paths[0]!, 'holds no rows');
  const classes = await classNames(shards, labelColumn);
  const sources = Object.fromEntries(await Promise.all(paths.map(async (path) => [basename(path), await sha256(path)] as const)));

  const decoder = await loadImageDecoder(paths[0]!);
  const [firstRow] = await parquetReadObjects({ file: shards[0]!.file, columns: [imageColumn], rowStart: 0, rowEnd: 1, utf8: false });
  const firstName = `${paths[0]} row 0`;
  const first = await decoder.size(imageBytes(firstRow![imageColumn], firstName), firstName);
  const [height, width] = options.size ?? [first.height, first.width];
  const channels = options.channels ?? 3;
  const shape: ImageShape = [height, width, channels];

  return inClaimedFolder(dirname(out), { ...options, purpose: 'prepare' }, async (claim) => {
    const state = await preparedState(out, sources, rows);
    if (state === 'prepared') return { path: out, rows, classes, shape, skipped: true };
    if (state !== 'missing' && !options.force)
      throw new DatasetError(
        out,
        `exists and is not this dataset (it ${state.problem}); left as it is (move it away, or prepare with force to replace it)`,
      );

    const writer = await ImageDatasetWriter.create(out, { classes, shape, rows, sources, claim });
    let done = 0;
    try {
      for (const shard of shards) {
        let rowStart = 0;
        for (const group of shard.metadata.row_groups) {
          const rowEnd = rowStart + Number(group.num_rows);
          const records = await parquetReadObjects({
            file: shard.file,
            columns: [imageColumn, labelColumn],
            rowStart,
            rowEnd,
            utf8: false,
          });
          for (const [offset, record] of records.entries()) {
            const name = `${shard.path} row ${rowStart + offset}`;
            const label = labelOf(record[labelColumn], name, classes.length);
            const pixels = await decoder.decode(imageBytes(record[imageColumn], name), name, {
              height,
              width,
              channels,
              resize: options.size !== undefined,
              first: firstName,
            });
            await writer.append(pixels, label);
            options.onProgress?.({ images: ++done, totalImages: rows });
          }
          rowStart = rowEnd;
        }
      }
      await writer.commit();
    } catch (error) {
      await writer.abort();
      throw error;
    }
    return { path: out, rows, classes, shape, skipped: false };
  });
}

async function openShard(path: string): Promise<Shard> {
  let file: AsyncBuffer;
  try {
    file = await asyncBufferFromFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DatasetError(path, code === 'ENOENT' ? 'does not exist' : `cannot be read (${(error as Error).message})`);
  }
  try {
    return { path, file, metadata: await parquetMetadataAsync(file) };
  } catch (error) {
    throw new DatasetError(path, `is not a readable Parquet file (${(error as Error).message})`);
  }
}

function checkColumns({ path, metadata }: Shard, imageColumn: string, labelColumn: string): void {
  const columns = parquetSchema(metadata).children.map((child) => child.element.name);
  for (const [column, what, option] of [
    [labelColumn, 'label', 'labelColumn'],
    [imageColumn, 'image', 'imageColumn'],
  ] as const) {
    if (!columns.includes(column))
      throw new DatasetError(path, `has no ${what} column "${column}" (its columns: ${columns.join(', ')}); name another with ${option}`);
  }
}

/** From the Hugging Face metadata (`ClassLabel` names) when there, else "0" … "max label". */
async function classNames(shards: readonly Shard[], labelColumn: string): Promise<string[]> {
  for (const { metadata } of shards) {
    const value = metadata.key_value_metadata?.find((entry) => entry.key === 'huggingface')?.value;
    if (!value) continue;
    try {
      const names = (JSON.parse(value) as { info?: { features?: Record<string, { names?: unknown }> } }).info?.features?.[labelColumn]
        ?.names;
      if (Array.isArray(names) && names.length > 0 && names.every((name) => typeof name === 'string')) return names as string[];
    } catch {
      // not JSON: fall back to the labels themselves
    }
  }
  let max = -1;
  for (const shard of shards) {
    const records = await parquetReadObjects({ file: shard.file, columns: [labelColumn] });
    for (const [row, record] of records.entries())
      max = Math.max(max, labelOf(record[labelColumn], `${shard.path} row ${row}`, Number.MAX_SAFE_INTEGER));
  }
  return Array.from({ length: max + 1 }, (_, c) => String(c));
}

function labelOf(value: unknown, name: string, classes: number): number {
  const label = typeof value === 'bigint' ? Number(value) : value;
  if (typeof label !== 'number' || !Number.isInteger(label))
    throw new DatasetError(name, `has label ${String(value)}; expected an integer class index`);
  if (label < 0 || label >= classes)
    throw new DatasetError(name, `has label ${label}, outside 0..${classes - 1} (the class names the file lists)`);
  return label;
}

function imageBytes(value: unknown, name: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  const bytes = (value as { bytes?: unknown } | null)?.bytes;
  if (bytes instanceof Uint8Array) return bytes;
  const path = (value as { path?: unknown } | null)?.path;
  throw new DatasetError(
    name,
    `has no image bytes${typeof path === 'string' ? ` (only a path, ${path}: images stored outside the file are not read)` : ''}`,
  );
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
