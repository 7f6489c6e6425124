import { DatasetError } from './errors.js';
import { checkIndex, type LabeledImages, type PixelArray } from './labeled-images.js';
import type { ImageShape } from './schema.js';

export interface ImageArrays<Pixels extends PixelArray> {
  readonly classes: readonly string[];
  readonly shape: ImageShape;
  /** Every image's pixels in HWC order, one after another: bytes, or float32 values taken as they are. */
  readonly pixels: Pixels;
  readonly labels: ArrayLike<number>;
}

/**
 * Images and labels held in arrays, as a dataset (no copy): for data made or loaded in code. Byte
 * pixels are scaled to [0, 1] by the batch stream, as a dataset file's are; float32 pixels go to the
 * model as they are, so values already scaled or normalised elsewhere stay so. (`ImageDataset.fromArrays`
 * makes an Arrow table of bytes instead, which can be written to a file.)
 *
 * ```ts
 * const images = labeledImages({ classes: ['no', 'yes'], shape: [28, 28, 1], pixels: new Float32Array(2 * 784), labels: [0, 1] });
 * fit(model, { schedule, trainBatches: epochBatches(images, { batchSize: 2, seed: 1 }) });
 * ```
 */
export function labeledImages<Pixels extends PixelArray>(arrays: ImageArrays<Pixels>, name = 'in-memory images'): LabeledImages<Pixels> {
  const { classes, shape, pixels, labels } = arrays;
  const perImage = shape[0] * shape[1] * shape[2];
  if (!shape.every((n) => Number.isInteger(n) && n > 0))
    throw new DatasetError(name, `shape [${shape.join(', ')}] must be three positive integers (height, width, channels)`);
  if (pixels.length !== labels.length * perImage)
    throw new DatasetError(
      name,
      `holds ${pixels.length} pixel values for ${labels.length} labels; ${shape.join('×')} images need ${labels.length * perImage}`,
    );
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (!Number.isInteger(label) || label < 0 || label >= classes.length)
      throw new DatasetError(name, `row ${i} has label ${label}, outside 0..${classes.length - 1}`);
  }
  return {
    length: labels.length,
    classes,
    shape,
    image(index) {
      checkIndex(index, labels.length);
      return pixels.subarray(index * perImage, (index + 1) * perImage) as Pixels;
    },
    label(index) {
      checkIndex(index, labels.length);
      return labels[index]!;
    },
  };
}
