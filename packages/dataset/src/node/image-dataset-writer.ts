import { mkdir } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { asOutOfSpace, claimFolder, type FolderClaim, removeEmptyFolders } from '@rxvision/folder';
import { DatasetError } from '../errors.js';
import { type LabelArray, labelArray } from '../labels.js';
import { imageRecordBatch, type LabelSets } from '../record-batch.js';
import { imageDatasetSchema, type ImageShape } from '../schema.js';
import { AtomicArrowFile } from './atomic-arrow-file.js';

export interface ImageDatasetWriterOptions {
  readonly classes: readonly string[];
  /** Height, width, channels of every image. */
  readonly shape: ImageShape;
  /** How many images will be appended: stored in the file, and checked at `commit`. */
  readonly rows: number;
  /** Names and sha256 of the raw files the rows come from (provenance; re-prepare checks). */
  readonly sources?: Readonly<Record<string, string>>;
  /** Images per Arrow record batch (default: about 32 MB of pixels). */
  readonly rowsPerBatch?: number;
  /** Each image has a set of labels (`append` takes them as an array), not one. */
  readonly multiLabel?: boolean;
  /**
   * The claim on the file's folder, held by the caller; without one the writer claims the folder
   * itself until `commit` or `abort` (and another writer there is refused, naming this one).
   */
  readonly claim?: FolderClaim;
}

/**
 * Writes an rxvision image dataset file image by image, from any source, without apache-arrow in
 * the caller's code. Memory stays bounded: images are gathered into one record batch at a time,
 * and `append` waits while the disk is behind. The file appears at `path` only on `commit`, whole;
 * `abort` (or a crash) leaves nothing but a temporary file the next writer in that folder removes.
 */
export class ImageDatasetWriter {
  readonly path: string;
  readonly #options: ImageDatasetWriterOptions;
  readonly #file: AtomicArrowFile;
  readonly #schema;
  readonly #pixelsPerImage: number;
  readonly #rowsPerBatch: number;
  #pixels: Uint8Array;
  #labels: LabelArray;
  /** The label sets of the batch being gathered, in a multi-label dataset. */
  #labelSets: number[][] = [];
  #inBatch = 0;
  #written = 0;
  /** The outermost folder `create` made, removed again by `abort` if still empty. */
  readonly #createdFolder: string | undefined;
  /** The claim this writer made itself, released when it is done. */
  readonly #ownClaim: FolderClaim | undefined;

  private constructor(
    path: string,
    options: ImageDatasetWriterOptions,
    createdFolder: string | undefined,
    claim: FolderClaim,
    ownClaim: boolean,
  ) {
    this.path = path;
    this.#createdFolder = createdFolder;
    this.#ownClaim = ownClaim ? claim : undefined;
    this.#options = options;
    const [height, width, channels] = options.shape;
    this.#pixelsPerImage = height * width * channels;
    this.#rowsPerBatch = options.rowsPerBatch ?? Math.max(1, Math.floor((32 * 2 ** 20) / this.#pixelsPerImage));
    this.#schema = imageDatasetSchema({
      classes: [...options.classes],
      shape: options.shape,
      rows: options.rows,
      sources: options.sources ?? {},
      multiLabel: options.multiLabel === true,
    });
    this.#file = new AtomicArrowFile(path, this.#schema, claim);
    this.#pixels = new Uint8Array(this.#rowsPerBatch * this.#pixelsPerImage);
    this.#labels = labelArray(options.classes.length, this.#rowsPerBatch);
  }

  /** Creates the folder if needed and starts the file under a temporary name. */
  static async create(path: string, options: ImageDatasetWriterOptions): Promise<ImageDatasetWriter> {
    const absolute = resolve(path);
    if (options.classes.length === 0) throw new DatasetError(absolute, 'a dataset needs at least one class');
    if (!Number.isSafeInteger(options.rows) || options.rows < 0)
      throw new DatasetError(absolute, `rows must be a count, got ${options.rows}`);
    const folder = dirname(absolute);
    const created = await mkdir(folder, { recursive: true });
    if (options.claim) return new ImageDatasetWriter(absolute, options, created, options.claim, false);
    const claim = await claimFolder(folder, { purpose: `writing ${basename(absolute)}` }).catch(async (error: unknown) => {
      if (created !== undefined) await removeEmptyFolders(folder, created);
      throw error;
    });
    return new ImageDatasetWriter(absolute, options, created, claim, true);
  }

  /**
   * Appends one image (HWC bytes of the writer's shape) and its label, or in a multi-label dataset
   * its labels (at least one, any order: stored ascending, without repeats).
   */
  async append(image: Uint8Array, label: number | readonly number[]): Promise<void> {
    if (image.length !== this.#pixelsPerImage)
      throw new DatasetError(
        this.path,
        `image ${this.#written} has ${image.length} values; the shape ${this.#options.shape.join('×')} needs ${this.#pixelsPerImage}`,
      );
    const multiLabel = this.#options.multiLabel === true;
    if ((typeof label === 'number') === multiLabel)
      throw new DatasetError(
        this.path,
        multiLabel ? 'is multi-label: append each image with an array of labels' : 'takes one label an image',
      );
    const labels = [...new Set(typeof label === 'number' ? [label] : label)].sort((a, b) => a - b);
    if (labels.length === 0) throw new DatasetError(this.path, `image ${this.#written} has no labels`);
    const bad = labels.find((one) => !Number.isInteger(one) || one < 0 || one >= this.#options.classes.length);
    if (bad !== undefined)
      throw new DatasetError(this.path, `image ${this.#written} has label ${bad}, outside 0..${this.#options.classes.length - 1}`);
    if (this.#written >= this.#options.rows) throw new DatasetError(this.path, `more than the ${this.#options.rows} images announced`);
    this.#pixels.set(image, this.#inBatch * this.#pixelsPerImage);
    this.#labels[this.#inBatch] = labels[0]!;
    if (multiLabel) this.#labelSets.push(labels);
    this.#inBatch++;
    this.#written++;
    if (this.#inBatch === this.#rowsPerBatch) await this.#outOfSpaceSaid(this.#flush());
  }

  /** Writes the last batch and the footer, checks the count, and puts the file in place. */
  async commit(): Promise<void> {
    if (this.#written !== this.#options.rows)
      throw new DatasetError(this.path, `${this.#written} images appended, ${this.#options.rows} announced`);
    await this.#outOfSpaceSaid(this.#flush().then(() => this.#file.commit()));
    await this.#ownClaim?.release();
  }

  /** Stops and removes the temporary file, and the folders `create` made if they are empty; never throws. */
  async abort(): Promise<void> {
    await this.#file.abort();
    await this.#ownClaim?.release();
    if (this.#createdFolder !== undefined) await removeEmptyFolders(dirname(this.path), this.#createdFolder);
  }

  /** A full disk as one line: the folder, and the file's size. */
  async #outOfSpaceSaid(writing: Promise<void>): Promise<void> {
    try {
      await writing;
    } catch (error) {
      throw await asOutOfSpace(error, {
        folder: dirname(this.path),
        what: `writing ${basename(this.path)}`,
        neededBytes: this.#options.rows * (this.#pixelsPerImage + 1),
      });
    }
  }

  #packedLabelSets(): LabelSets {
    const offsets = new Int32Array(this.#labelSets.length + 1);
    this.#labelSets.forEach((labels, row) => (offsets[row + 1] = offsets[row]! + labels.length));
    const values = labelArray(this.#options.classes.length, offsets[this.#labelSets.length]!);
    values.set(this.#labelSets.flat());
    return { offsets, values };
  }

  async #flush(): Promise<void> {
    if (this.#inBatch === 0) return;
    this.#file.write(
      imageRecordBatch(
        this.#schema,
        this.#pixels.subarray(0, this.#inBatch * this.#pixelsPerImage),
        this.#labels.subarray(0, this.#inBatch),
        this.#options.multiLabel ? this.#packedLabelSets() : undefined,
      ),
    );
    this.#labelSets = [];
    // The batch's buffers now belong to the writer: the next batch gets fresh ones.
    this.#pixels = new Uint8Array(this.#rowsPerBatch * this.#pixelsPerImage);
    this.#labels = labelArray(this.#options.classes.length, this.#rowsPerBatch);
    this.#inBatch = 0;
    await this.#file.drained(2 * this.#rowsPerBatch * this.#pixelsPerImage);
  }
}
