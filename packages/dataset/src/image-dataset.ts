import { type RecordBatch, Table, tableFromIPC } from 'apache-arrow';
import { DatasetError } from './errors.js';
import { checkIndex, type LabeledImages } from './labeled-images.js';
import type { LabelArray } from './labels.js';
import { imageRecordBatch, type LabelSets } from './record-batch.js';
import { rangeOf } from './row-ranges.js';
import {
  IMAGE_COLUMN,
  imageDatasetSchema,
  type ImageDatasetInfo,
  type ImageShape,
  LABEL_COLUMN,
  LABELS_COLUMN,
  parseImageDatasetSchema,
} from './schema.js';

/** A contiguous run of rows, as stored in one Arrow record batch. */
export interface ImageChunk {
  /** Index of the chunk's first row in the dataset. */
  readonly start: number;
  readonly length: number;
  /** All pixels of the chunk, row after row: a view into the file's bytes. */
  readonly pixels: Uint8Array;
  readonly labels: LabelArray;
  /** Each row's classes, in a multi-label dataset. */
  readonly labelSets?: LabelSets;
}

/**
 * A prepared image dataset held in memory as Arrow record batches. Images are `subarray` views
 * into the IPC bytes the table was read from, so opening costs no copy of the pixels.
 */
export class ImageDataset implements LabeledImages, Iterable<ImageChunk> {
  readonly length: number;
  readonly classes: readonly string[];
  readonly shape: ImageShape;
  readonly sources: Readonly<Record<string, string>>;
  readonly pixelsPerImage: number;
  readonly #chunks: readonly ImageChunk[];
  #lastChunk = 0;
  /** Every class image `index` shows, ascending (a view): defined for multi-label datasets only. */
  readonly labelSet: ((index: number) => LabelArray) | undefined;

  private constructor(
    readonly table: Table,
    info: ImageDatasetInfo,
    chunks: readonly ImageChunk[],
  ) {
    this.length = table.numRows;
    this.classes = info.classes;
    this.shape = info.shape;
    this.sources = info.sources;
    this.pixelsPerImage = info.shape[0] * info.shape[1] * info.shape[2];
    this.#chunks = chunks;
    this.labelSet = info.multiLabel ? (index) => this.#labelSetOf(index) : undefined;
  }

  /** Validates the schema, the row count and every label; `file` names the input in errors. */
  static fromTable(table: Table, file: string): ImageDataset {
    const info = parseImageDatasetSchema(table.schema);
    if (typeof info === 'string') throw new DatasetError(file, info);
    if (table.numRows !== info.rows) {
      throw new DatasetError(file, `holds ${table.numRows} rows but its metadata says ${info.rows}: the file is incomplete`);
    }
    const pixelsPerImage = info.shape[0] * info.shape[1] * info.shape[2];
    const chunks: ImageChunk[] = [];
    let start = 0;
    for (const batch of table.batches) {
      const chunk = chunkOf(batch, start, pixelsPerImage, file);
      const badRow = chunk.labels.findIndex((label) => label >= info.classes.length);
      if (badRow >= 0) {
        throw new DatasetError(file, `row ${start + badRow} has label ${chunk.labels[badRow]}, outside 0..${info.classes.length - 1}`);
      }
      const badSet = chunk.labelSets && badLabelSet(chunk, info.classes.length);
      if (badSet) throw new DatasetError(file, `row ${start + badSet.row} ${badSet.problem}`);
      chunks.push(chunk);
      start += chunk.length;
    }
    return new ImageDataset(table, info, chunks);
  }

  /**
   * An in-memory dataset from HWC pixels (`rows × h·w·c` bytes) and labels, without copying them:
   * for small experiments and tests that need no file.
   */
  static fromArrays(
    data: { classes: readonly string[]; shape: ImageShape; pixels: Uint8Array; labels: LabelArray; labelSets?: LabelSets },
    name = 'in-memory dataset',
  ): ImageDataset {
    const { classes, shape, labels, labelSets } = data;
    const schema = imageDatasetSchema({ classes, shape, rows: labels.length, sources: {}, multiLabel: labelSets !== undefined });
    return ImageDataset.fromTable(new Table([imageRecordBatch(schema, data.pixels, labels, labelSets)]), name);
  }

  /** Reads Arrow IPC bytes (file or stream format) without copying the pixels. */
  static fromIPC(bytes: Uint8Array, file: string): ImageDataset {
    let table: Table;
    try {
      table = tableFromIPC(bytes);
    } catch (error) {
      throw new DatasetError(file, `is not a readable Arrow IPC file (${(error as Error).message})`, { cause: error });
    }
    return ImageDataset.fromTable(table, file);
  }

  image(index: number): Uint8Array {
    const chunk = this.#chunkOf(index);
    const offset = (index - chunk.start) * this.pixelsPerImage;
    return chunk.pixels.subarray(offset, offset + this.pixelsPerImage);
  }

  label(index: number): number {
    const chunk = this.#chunkOf(index);
    return chunk.labels[index - chunk.start]!;
  }

  #labelSetOf(index: number): LabelArray {
    const chunk = this.#chunkOf(index);
    const { offsets, values } = chunk.labelSets!;
    return values.subarray(offsets[index - chunk.start], offsets[index - chunk.start + 1]);
  }

  /** The record batches as contiguous chunks, in row order. */
  [Symbol.iterator](): Iterator<ImageChunk> {
    return this.#chunks[Symbol.iterator]();
  }

  #chunkOf(index: number): ImageChunk {
    checkIndex(index, this.length);
    // Consecutive reads usually hit the same chunk; otherwise binary search the chunk starts.
    const chunk = this.#chunks[this.#lastChunk]!;
    if (index >= chunk.start && index < chunk.start + chunk.length) return chunk;
    this.#lastChunk = rangeOf((i) => this.#chunks[i]!.start, this.#chunks.length, index);
    return this.#chunks[this.#lastChunk]!;
  }
}

function chunkOf(batch: RecordBatch, start: number, pixelsPerImage: number, file: string): ImageChunk {
  const images = batch.getChild(IMAGE_COLUMN)!.data[0]!;
  const labels = batch.getChild(LABEL_COLUMN)!.data[0]!;
  if (images.nullCount > 0 || labels.nullCount > 0) {
    throw new DatasetError(file, `has missing values in the record batch starting at row ${start}`);
  }
  // Arrow JS slices value buffers on read, so row 0 of the batch is at index 0 of `values`.
  const pixels = (images.children[0]!.values as Uint8Array).subarray(0, batch.numRows * pixelsPerImage);
  const labelValues = (labels.values as LabelArray).subarray(0, batch.numRows);
  if (pixels.length !== batch.numRows * pixelsPerImage || labelValues.length !== batch.numRows) {
    throw new DatasetError(file, `record batch starting at row ${start} is shorter than its row count`);
  }
  const sets = batch.getChild(LABELS_COLUMN)?.data[0];
  if (!sets) return { start, length: batch.numRows, pixels, labels: labelValues };
  const offsets = (sets.valueOffsets as Int32Array).subarray(0, batch.numRows + 1);
  const first = offsets[0] ?? 0;
  if (sets.nullCount > 0 || offsets.length !== batch.numRows + 1)
    throw new DatasetError(file, `has a damaged "${LABELS_COLUMN}" column in the record batch starting at row ${start}`);
  // The offsets of a sliced column need not start at 0: rebase them onto a view of their values.
  const values = (sets.children[0]!.values as LabelArray).subarray(first, offsets[batch.numRows]);
  return { start, length: batch.numRows, pixels, labels: labelValues, labelSets: { offsets: offsets.map((o) => o - first), values } };
}

/** The first row whose label set is empty, out of order, outside the classes or not led by its label. */
function badLabelSet(chunk: ImageChunk, classes: number): { row: number; problem: string } | undefined {
  const { offsets, values } = chunk.labelSets!;
  for (let row = 0; row < chunk.length; row++) {
    const [from, to] = [offsets[row]!, offsets[row + 1]!];
    if (!(from >= 0 && to > from && to <= values.length)) return { row, problem: 'has no labels in its label set' };
    for (let i = from; i < to; i++) {
      if (values[i]! >= classes) return { row, problem: `has label ${values[i]} in its set, outside 0..${classes - 1}` };
      if (i > from && values[i]! <= values[i - 1]!) return { row, problem: 'has a label set out of ascending order' };
    }
    if (values[from] !== chunk.labels[row]) return { row, problem: `has label ${chunk.labels[row]}, not the first of its set` };
  }
  return undefined;
}
