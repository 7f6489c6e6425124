import type { ImageShape } from './schema.js';

/**
 * What the rest of rxvision needs from a dataset: random access to images and labels.
 * Implemented by a whole file (`ImageDataset`) and by index views over it (`subset`, splits).
 */
export interface LabeledImages {
  readonly length: number;
  readonly classes: readonly string[];
  readonly shape: ImageShape;
  /** The pixels of one image in HWC order: a view into the dataset's memory, never a copy. */
  image(index: number): Uint8Array;
  label(index: number): number;
}

export function checkIndex(index: number, length: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= length) {
    throw new RangeError(`index ${index} is outside 0..${length - 1}`);
  }
}
