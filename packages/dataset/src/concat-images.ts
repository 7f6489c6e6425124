import { DatasetError } from './errors.js';
import { checkIndex, type LabeledImages } from './labeled-images.js';
import { rangeOf } from './row-ranges.js';
import type { ImageShape } from './schema.js';

/** Several datasets of one shape and class list read as one, in order: a dataset stored in several files. */
export class ConcatenatedImages implements LabeledImages {
  readonly length: number;
  readonly classes: readonly string[];
  readonly shape: ImageShape;
  readonly labelSet: LabeledImages['labelSet'];
  /** Index of each part's first row. */
  readonly #starts: Float64Array;

  constructor(
    readonly parts: readonly LabeledImages[],
    names: readonly string[] = parts.map((_, i) => `part ${i}`),
  ) {
    const [first] = parts;
    if (!first) throw new DatasetError('datasets', 'nothing to concatenate');
    parts.forEach((part, i) => {
      if (part.shape.join() !== first.shape.join() || part.classes.join('\n') !== first.classes.join('\n')) {
        throw new DatasetError(
          names[i] ?? `part ${i}`,
          `holds ${part.shape.join('×')} images of classes ${part.classes.join(', ')}, unlike ${names[0] ?? 'part 0'} (${first.shape.join('×')}, ${first.classes.join(', ')})`,
        );
      }
    });
    this.classes = first.classes;
    this.shape = first.shape;
    this.#starts = new Float64Array(parts.length);
    let length = 0;
    parts.forEach((part, i) => {
      this.#starts[i] = length;
      length += part.length;
    });
    this.length = length;
    const sets = parts.map((part) => part.labelSet);
    if (sets.some(Boolean) && !sets.every(Boolean))
      throw new DatasetError(names[sets.indexOf(undefined)] ?? 'a part', `has one label an image, unlike the others (multi-label)`);
    this.labelSet = sets.every(Boolean)
      ? (index) => {
          const part = this.#partOf(index);
          return sets[part]!(index - this.#starts[part]!);
        }
      : undefined;
  }

  image(index: number): Uint8Array {
    const part = this.#partOf(index);
    return this.parts[part]!.image(index - this.#starts[part]!);
  }

  label(index: number): number {
    const part = this.#partOf(index);
    return this.parts[part]!.label(index - this.#starts[part]!);
  }

  #partOf(index: number): number {
    checkIndex(index, this.length);
    return rangeOf((i) => this.#starts[i]!, this.parts.length, index);
  }
}
