import { checkIndex, type LabeledImages, type PixelArray } from './labeled-images.js';
import type { ImageShape } from './schema.js';

/** Rows of another dataset picked by index: a view, the images stay where they are. */
export class DatasetView<Pixels extends PixelArray = Uint8Array> implements LabeledImages<Pixels> {
  readonly classes: readonly string[];
  readonly shape: ImageShape;
  readonly labelSet: LabeledImages['labelSet'];

  constructor(
    readonly source: LabeledImages<Pixels>,
    readonly indices: Uint32Array,
  ) {
    for (const index of indices) checkIndex(index, source.length);
    this.classes = source.classes;
    this.shape = source.shape;
    const of = source.labelSet;
    this.labelSet = of && ((index) => (checkIndex(index, this.indices.length), of(this.indices[index]!)));
  }

  get length(): number {
    return this.indices.length;
  }

  image(index: number): Pixels {
    checkIndex(index, this.indices.length);
    return this.source.image(this.indices[index]!);
  }

  label(index: number): number {
    checkIndex(index, this.indices.length);
    return this.source.label(this.indices[index]!);
  }
}

/** A view of `indices` of `source`; views of views map straight to the underlying rows. */
export function subset<Pixels extends PixelArray = Uint8Array>(
  source: LabeledImages<Pixels>,
  indices: ArrayLike<number>,
): DatasetView<Pixels> {
  const own = Uint32Array.from(indices);
  if (source instanceof DatasetView) {
    for (const index of own) checkIndex(index, source.length);
    return new DatasetView(
      source.source,
      own.map((index) => source.indices[index]!),
    );
  }
  return new DatasetView(source, own);
}
