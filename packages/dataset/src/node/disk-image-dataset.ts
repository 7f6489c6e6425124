import type { FileHandle } from 'node:fs/promises';
import { readSync } from 'node:fs';
import { resolve } from 'node:path';
import { openRegularFile } from '@rxvision/folder';
import { type DataType, Message, RecordBatchReader } from 'apache-arrow';
import { DatasetError } from '../errors.js';
import { cannotOpen } from './cannot-open.js';
import { checkIndex, type LabeledImages } from '../labeled-images.js';
import { type LabelArray, labelArray, unsignedBitWidth } from '../labels.js';
import { rangeOf } from '../row-ranges.js';
import { IMAGE_COLUMN, type ImageShape, LABEL_COLUMN, parseImageDatasetSchema } from '../schema.js';

/** The first four bytes of every message of Arrow's stream format since 0.15. */
const STREAM_CONTINUATION = 0xffffffff;

/** Where one record batch's pixels lie in the file. */
interface BatchLocation {
  /** Index of the batch's first row in the dataset. */
  readonly start: number;
  readonly length: number;
  /** File offset of the batch's first pixel. */
  readonly pixels: number;
}

/** Sequential reads grow the read-ahead window up to this many bytes; a jump shrinks it to one image. */
const MAX_READ_AHEAD_BYTES = 2 ** 20;

/**
 * A prepared image dataset read from disk as it is used, never loaded whole: opening reads the
 * footer, each record batch's metadata and the labels (a byte or so per row); `image` reads one
 * image's bytes at its position in the file. Sequential reads (evaluation, a chunk of an epoch)
 * read ahead in growing windows, as the kernel does for files; shuffled reads cost one `pread` per
 * image. Memory stays bounded by the labels plus one window, whatever the file's size.
 *
 * `image` returns a fresh array the caller owns (there is no file-backed memory to take a view of).
 * Needs the Arrow IPC *file* format, which `ImageDatasetWriter` and `prepare*` write. Call `close`
 * when done.
 */
export class DiskImageDataset implements LabeledImages {
  readonly length: number;
  readonly classes: readonly string[];
  readonly shape: ImageShape;
  readonly sources: Readonly<Record<string, string>>;
  readonly pixelsPerImage: number;
  /** Bytes of pixels read from the file so far (read-ahead included): for throughput reports. */
  bytesRead = 0;
  readonly #handle: FileHandle;
  readonly #batches: readonly BatchLocation[];
  readonly #labels: LabelArray;
  #lastBatch = 0;
  #window = new Uint8Array(0);
  #windowStart = 0;
  #windowRows = 0;
  #nextSequential = -1;
  #readAheadRows = 1;

  private constructor(
    readonly path: string,
    handle: FileHandle,
    info: { classes: readonly string[]; shape: ImageShape; sources: Record<string, string> },
    batches: BatchLocation[],
    labels: LabelArray,
  ) {
    this.#handle = handle;
    this.classes = info.classes;
    this.shape = info.shape;
    this.sources = info.sources;
    this.pixelsPerImage = info.shape[0] * info.shape[1] * info.shape[2];
    this.#batches = batches;
    this.#labels = labels;
    this.length = labels.length;
  }

  /** Opens `path` and checks its schema, its row count, every batch's layout and every label. */
  static async open(path: string): Promise<DiskImageDataset> {
    const file = resolve(path);
    let handle: FileHandle;
    try {
      // Without blocking, and only a regular file: a FIFO named as a dataset is one line, not a hang.
      ({ handle } = await openRegularFile(file, Number.MAX_SAFE_INTEGER));
    } catch (error) {
      throw cannotOpen(file, error);
    }
    try {
      return await DiskImageDataset.#index(file, handle);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  static async #index(file: string, handle: FileHandle): Promise<DiskImageDataset> {
    // Arrow's reader takes any other first bytes (a 3 GB file of zeros) for a stream: say what it is.
    const { buffer: magic } = await handle.read(Buffer.alloc(6), 0, 6, 0);
    if (magic.toString('latin1') !== 'ARROW1' && magic.readUInt32LE(0) !== STREAM_CONTINUATION)
      throw new DatasetError(file, 'is not an Arrow IPC file (it does not begin with ARROW1)');
    let reader;
    try {
      reader = await RecordBatchReader.from(handle);
      await reader.open();
    } catch (error) {
      throw new DatasetError(file, `is not a readable Arrow IPC file (${(error as Error).message})`, { cause: error });
    }
    if (!reader.isFile())
      throw new DatasetError(
        file,
        'is in the Arrow stream format; reading from disk needs the file format (with a footer), which `prepare` writes',
      );
    const info = parseImageDatasetSchema(reader.schema);
    if (typeof info === 'string') throw new DatasetError(file, info);
    if (info.multiLabel)
      throw new DatasetError(file, 'is multi-label and larger than is read into memory; label sets are not read from disk yet');
    const fields = reader.schema.fields.map((field) => field.name);
    if (fields.length !== 2)
      throw new DatasetError(
        file,
        `has columns ${fields.join(', ')}; reading from disk supports only "${IMAGE_COLUMN}" and "${LABEL_COLUMN}"`,
      );
    const labelBits = unsignedBitWidth(reader.schema.fields.find((field) => field.name === LABEL_COLUMN)!.type as DataType)!;
    const pixelsPerImage = info.shape[0] * info.shape[1] * info.shape[2];
    const imageFirst = fields[0] === IMAGE_COLUMN;

    const batches: BatchLocation[] = [];
    const labelParts: LabelArray[] = [];
    let start = 0;
    for (const block of reader.footer!.recordBatches()) {
      const header = await readRecordBatchHeader(handle, Number(block.offset), block.metaDataLength, file);
      const body = Number(block.offset) + block.metaDataLength;
      const at = `record batch starting at row ${start}`;
      if (header.compression) throw new DatasetError(file, `${at} is compressed; rxvision reads uncompressed files only`);
      // Buffers in field order: a fixed-size list has a validity buffer, its Uint8 child a validity
      // and a data buffer; the label column a validity and a data buffer.
      const [imageNode, pixelNode, labelNode] = imageFirst ? header.nodes : [header.nodes[1], header.nodes[2], header.nodes[0]];
      const pixelBuffer = header.buffers[imageFirst ? 2 : 4];
      const labelBuffer = header.buffers[imageFirst ? 4 : 1];
      const rows = header.length;
      if (
        !imageNode ||
        !pixelNode ||
        !labelNode ||
        !pixelBuffer ||
        !labelBuffer ||
        header.nodes.length !== 3 ||
        header.buffers.length !== 5
      ) {
        throw new DatasetError(file, `${at} does not have the layout of an image and a label column`);
      }
      if (imageNode.nullCount > 0 || pixelNode.nullCount > 0 || labelNode.nullCount > 0)
        throw new DatasetError(file, `has missing values in the ${at}`);
      if (
        imageNode.length !== rows ||
        labelNode.length !== rows ||
        pixelNode.length !== rows * pixelsPerImage ||
        pixelBuffer.length < rows * pixelsPerImage ||
        labelBuffer.length < (rows * labelBits) / 8
      ) {
        throw new DatasetError(file, `${at} is shorter than its row count`);
      }
      const labels = labelArray(2 ** labelBits, rows); // exactly labelBits wide
      readFully(handle, new Uint8Array(labels.buffer), body + labelBuffer.offset, file);
      const badRow = labels.findIndex((label) => label >= info.classes.length);
      if (badRow >= 0)
        throw new DatasetError(file, `row ${start + badRow} has label ${labels[badRow]}, outside 0..${info.classes.length - 1}`);
      batches.push({ start, length: rows, pixels: body + pixelBuffer.offset });
      labelParts.push(labels);
      start += rows;
    }
    if (start !== info.rows) throw new DatasetError(file, `holds ${start} rows but its metadata says ${info.rows}: the file is incomplete`);
    const labels = labelArray(2 ** labelBits, start);
    let offset = 0;
    for (const part of labelParts) {
      labels.set(part, offset);
      offset += part.length;
    }
    return new DiskImageDataset(file, handle, info, batches, labels);
  }

  image(index: number): Uint8Array {
    const batch = this.#batchOf(index);
    const size = this.pixelsPerImage;
    if (index >= this.#windowStart && index < this.#windowStart + this.#windowRows) {
      this.#nextSequential = index + 1;
      const offset = (index - this.#windowStart) * size;
      return this.#window.slice(offset, offset + size);
    }
    // Read ahead only while reads are sequential, never past the record batch.
    this.#readAheadRows =
      index === this.#nextSequential ? Math.min(this.#readAheadRows * 2, Math.max(1, Math.floor(MAX_READ_AHEAD_BYTES / size))) : 1;
    this.#nextSequential = index + 1;
    const rows = Math.min(this.#readAheadRows, batch.start + batch.length - index);
    const position = batch.pixels + (index - batch.start) * size;
    if (rows === 1) {
      this.#windowRows = 0;
      const image = new Uint8Array(size);
      readFully(this.#handle, image, position, this.path);
      this.bytesRead += size;
      return image;
    }
    if (this.#window.length < rows * size) this.#window = new Uint8Array(rows * size);
    readFully(this.#handle, this.#window.subarray(0, rows * size), position, this.path);
    this.bytesRead += rows * size;
    this.#windowStart = index;
    this.#windowRows = rows;
    return this.#window.slice(0, size);
  }

  label(index: number): number {
    checkIndex(index, this.length);
    return this.#labels[index]!;
  }

  /** Closes the file; reading afterwards throws. */
  async close(): Promise<void> {
    await this.#handle.close();
  }

  #batchOf(index: number): BatchLocation {
    checkIndex(index, this.length);
    const batch = this.#batches[this.#lastBatch]!;
    if (index >= batch.start && index < batch.start + batch.length) return batch;
    this.#lastBatch = rangeOf((i) => this.#batches[i]!.start, this.#batches.length, index);
    return this.#batches[this.#lastBatch]!;
  }
}

/** Reads an encapsulated IPC message's metadata (continuation marker, length, flatbuffer). */
async function readRecordBatchHeader(handle: FileHandle, offset: number, metaDataLength: number, file: string) {
  const bytes = new Uint8Array(metaDataLength);
  const { bytesRead } = await handle.read(bytes, 0, metaDataLength, offset);
  const view = new DataView(bytes.buffer);
  const continued = bytesRead >= 8 && view.getInt32(0, true) === -1;
  const length = continued ? view.getInt32(4, true) : bytesRead >= 4 ? view.getInt32(0, true) : -1;
  const from = continued ? 8 : 4;
  if (length <= 0 || from + length > bytesRead) throw new DatasetError(file, `record batch metadata at byte ${offset} is cut short`);
  const message = Message.decode(bytes.subarray(from, from + length));
  if (!message.isRecordBatch()) throw new DatasetError(file, `the block at byte ${offset} is not a record batch`);
  return message.header();
}

function readFully(handle: FileHandle, into: Uint8Array, position: number, file: string): void {
  for (let done = 0; done < into.length;) {
    const read = readSync(handle.fd, into, done, into.length - done, position + done);
    if (read === 0) throw new DatasetError(file, `ends at byte ${position + done}, inside an image: the file is truncated`);
    done += read;
  }
}
