import { checkIndex, type LabeledImages } from './labeled-images.js';
import type { ImageShape } from './schema.js';

/** Rows of another dataset picked by index: a view, the images stay where they are. */
export class DatasetView implements LabeledImages {
  readonly classes: readonly string[];
  readonly shape: ImageShape;

  constructor(
    readonly source: LabeledImages,
    readonly indices: Uint32Array,
  ) {
    for (const index of indices) checkIndex(index, source.length);
    this.classes = source.classes;
    this.shape = source.shape;
  }

  get length(): number {
    return this.indices.length;
  }

  image(index: number): Uint8Array {
    checkIndex(index, this.indices.length);
    return this.source.image(this.indices[index]!);
  }

  label(index: number): number {
    checkIndex(index, this.indices.length);
    return this.source.label(this.indices[index]!);
  }
}

/** A view of `indices` of `source`; views of views map straight to the underlying rows. */
export function subset(source: LabeledImages, indices: ArrayLike<number>): DatasetView {
  const own = Uint32Array.from(indices);
  if (source instanceof DatasetView) {
    for (const index of own) checkIndex(index, source.length);
    return new DatasetView(source.source, own.map((index) => source.indices[index]!));
  }
  return new DatasetView(source, own);
}
