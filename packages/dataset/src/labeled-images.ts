import type { ImageShape } from './schema.js';

/**
 * An image's pixels: bytes (0–255, what image files and dataset files hold; the batch stream
 * scales them to [0, 1]) or float32 values the stream takes as they are (already scaled).
 */
export type PixelArray = Uint8Array | Float32Array;

/**
 * What the rest of rxvision needs from a dataset: random access to images and labels.
 * Implemented by a whole file (`ImageDataset`), by index views over it (`subset`, splits) and by
 * arrays in memory (`labeledImages`). Dataset files hold bytes, so `Pixels` is `Uint8Array` unless
 * said otherwise.
 */
export interface LabeledImages<Pixels extends PixelArray = Uint8Array> {
  readonly length: number;
  readonly classes: readonly string[];
  readonly shape: ImageShape;
  /** The pixels of one image in HWC order: a view into the dataset's memory, never a copy. */
  image(index: number): Pixels;
  label(index: number): number;
  /**
   * Multi-label data only: every class image `index` shows, ascending (`label` is the first). Absent
   * where each image has one class; views over a multi-label dataset keep it.
   */
  readonly labelSet?: ((index: number) => ArrayLike<number>) | undefined;
}

export function checkIndex(index: number, length: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= length) {
    throw new RangeError(`index ${index} is outside 0..${length - 1}`);
  }
}
