import type { ImageShape } from './schema.js';

/** One raw file of a CIFAR-style binary dataset and where its rows go. */
export interface RawFileSpec {
  readonly name: string;
  readonly split: 'train' | 'test';
  readonly records: number;
  /**
   * Lower-case hex sha256 of the whole file; a file is accepted only if it matches. Without it
   * (no published checksum) any file of the right size and labels is accepted, and the sha256 it
   * had is recorded in the prepared file.
   */
  readonly sha256?: string;
}

/**
 * Describes a CIFAR-style binary dataset: label bytes (one for CIFAR-10; coarse then fine for
 * CIFAR-100), then the planes R, G, B of each image.
 */
export interface BinaryDatasetSpec {
  readonly classes: readonly string[];
  readonly shape: ImageShape;
  /** Bytes before each image's pixels (default 1). */
  readonly labelBytes?: number;
  /** Which of those bytes is the label (default 0). */
  readonly labelOffset?: number;
  /** In row order: the train file's rows follow the order of its entries here. */
  readonly files: readonly RawFileSpec[];
}

export const CIFAR10_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';

/** The official CIFAR-10 binary version; checksums as published for the official tarball. */
export const CIFAR10: BinaryDatasetSpec = {
  classes: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
  shape: [32, 32, 3],
  files: [
    {
      name: 'data_batch_1.bin',
      split: 'train',
      records: 10_000,
      sha256: 'cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5',
    },
    {
      name: 'data_batch_2.bin',
      split: 'train',
      records: 10_000,
      sha256: 'a591ca11fa1708a91ee40f54b3da4784ccd871ecf2137de63f51ada8b3fa57ed',
    },
    {
      name: 'data_batch_3.bin',
      split: 'train',
      records: 10_000,
      sha256: 'bbe8596564c0f86427f876058170b84dac6670ddf06d79402899d93ceea26f67',
    },
    {
      name: 'data_batch_4.bin',
      split: 'train',
      records: 10_000,
      sha256: '014e562d6e23c72197cc727519169a60359f5eccd8945ad5a09d710285ff4e48',
    },
    {
      name: 'data_batch_5.bin',
      split: 'train',
      records: 10_000,
      sha256: '755304fc0b379caeae8c14f0dac912fbc7d6cd469eb67a1029a08a39453a9add',
    },
    { name: 'test_batch.bin', split: 'test', records: 10_000, sha256: '8e2eb146ae340b09e24670f29cabc6326dba54da8789dab6768acf480273f65b' },
  ],
};

export function recordSize(spec: BinaryDatasetSpec): number {
  return (spec.labelBytes ?? 1) + spec.shape[0] * spec.shape[1] * spec.shape[2];
}

/**
 * Decodes records fed in chunks of any size into HWC pixels and labels. The raw format stores
 * each image as three colour planes (CHW); every consumer downstream wants interleaved pixels.
 */
export class BinaryRecordDecoder {
  readonly pixels: Uint8Array;
  readonly labels: Uint8Array;
  readonly #recordSize: number;
  readonly #planeSize: number;
  readonly #channels: number;
  readonly #classCount: number;
  readonly #labelBytes: number;
  readonly #labelOffset: number;
  readonly #partial: Uint8Array;
  #partialLength = 0;
  #records = 0;
  #bytes = 0;

  constructor(
    readonly file: RawFileSpec,
    spec: BinaryDatasetSpec,
  ) {
    const [height, width, channels] = spec.shape;
    this.#planeSize = height * width;
    this.#channels = channels;
    this.#labelBytes = spec.labelBytes ?? 1;
    this.#labelOffset = spec.labelOffset ?? 0;
    this.#recordSize = recordSize(spec);
    this.#classCount = spec.classes.length;
    this.pixels = new Uint8Array(file.records * this.#planeSize * channels);
    this.labels = new Uint8Array(file.records);
    this.#partial = new Uint8Array(this.#recordSize);
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Returns a problem as text, or undefined; the caller adds the file name. */
  push(chunk: Uint8Array): string | undefined {
    this.#bytes += chunk.length;
    let offset = 0;
    if (this.#partialLength > 0) {
      const take = Math.min(this.#recordSize - this.#partialLength, chunk.length);
      this.#partial.set(chunk.subarray(0, take), this.#partialLength);
      this.#partialLength += take;
      offset = take;
      if (this.#partialLength < this.#recordSize) return undefined;
      this.#partialLength = 0;
      const problem = this.#decode(this.#partial, 0);
      if (problem) return problem;
    }
    for (; offset + this.#recordSize <= chunk.length; offset += this.#recordSize) {
      const problem = this.#decode(chunk, offset);
      if (problem) return problem;
    }
    this.#partial.set(chunk.subarray(offset));
    this.#partialLength = chunk.length - offset;
    return undefined;
  }

  /** Checks that exactly the expected number of whole records arrived. */
  finish(): string | undefined {
    return this.checkSize(this.#bytes);
  }

  /** Checks a file's size; sources that know it up front call this before decoding anything. */
  checkSize(bytes: number): string | undefined {
    const expected = this.file.records * this.#recordSize;
    if (bytes === expected) return undefined;
    const count = (n: number): string => n.toLocaleString('en');
    const size = `${count(bytes)} bytes, expected ${count(expected)} (${count(this.file.records)} records of ${count(this.#recordSize)} bytes)`;
    if (bytes % this.#recordSize !== 0 && bytes % this.file.records === 0) {
      return `records are ${count(bytes / this.file.records)} bytes, not ${count(this.#recordSize)}: ${size}`;
    }
    return bytes < expected ? `is truncated: ${size}` : `is too long: ${size}`;
  }

  #decode(source: Uint8Array, offset: number): string | undefined {
    if (this.#records >= this.file.records) return undefined; // finish() reports the excess
    const label = source[offset + this.#labelOffset]!;
    if (label >= this.#classCount) {
      return `record ${this.#records} has label ${label}, outside 0..${this.#classCount - 1}`;
    }
    this.labels[this.#records] = label;
    const planeSize = this.#planeSize;
    const channels = this.#channels;
    const pixels = this.pixels;
    let out = this.#records * planeSize * channels;
    const start = offset + this.#labelBytes;
    for (let p = 0; p < planeSize; p++) {
      for (let c = 0; c < channels; c++) pixels[out++] = source[start + c * planeSize + p]!;
    }
    this.#records++;
    return undefined;
  }
}
