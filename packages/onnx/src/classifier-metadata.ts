import { onnxMetadata } from './onnx-model.js';

/** What a runtime needs to classify with an exported model as training did. */
export interface OnnxClassifierMetadata {
  /** Class names, in the order of the outputs. */
  readonly classes: readonly string[];
  /** [height, width, channels] of the images the model takes. */
  readonly imageShape: readonly [number, number, number];
  /** Per-channel normalisation after pixels are scaled to [0, 1]; absent when there is none. */
  readonly normalize?: { readonly mean: readonly number[]; readonly std: readonly number[] };
}

const KEYS = {
  classes: 'rxvision.classes',
  imageShape: 'rxvision.image_shape',
  normalize: 'rxvision.normalize',
  preprocessing: 'rxvision.preprocessing',
} as const;

/** The model's metadata entries (JSON values) for a classifier; what `readClassifierMetadata` reads back. */
export function classifierMetadata(classifier: OnnxClassifierMetadata): Record<string, string> {
  return {
    [KEYS.classes]: JSON.stringify(classifier.classes),
    [KEYS.imageShape]: JSON.stringify(classifier.imageShape),
    ...(classifier.normalize && { [KEYS.normalize]: JSON.stringify({ mean: classifier.normalize.mean, std: classifier.normalize.std }) }),
    [KEYS.preprocessing]: `images: float32 [batch, ${classifier.imageShape.join(', ')}] (NHWC), RGB pixels / 255${classifier.normalize ? `, then (x - mean) / std per channel (${KEYS.normalize})` : ''}`,
  };
}

/** The classifier an exported model describes, or a RangeError saying what its metadata lacks. */
export function readClassifierMetadata(model: Uint8Array): OnnxClassifierMetadata {
  const metadata = onnxMetadata(model);
  const json = (key: string) => {
    try {
      return metadata[key] === undefined ? undefined : (JSON.parse(metadata[key]) as unknown);
    } catch {
      throw new RangeError(`the model's ${key} is not JSON`);
    }
  };
  const classes = json(KEYS.classes);
  const imageShape = json(KEYS.imageShape);
  const normalize = json(KEYS.normalize) as OnnxClassifierMetadata['normalize'] | undefined;
  if (!Array.isArray(classes) || !classes.every((c) => typeof c === 'string'))
    throw new RangeError(`the model has no class names (${KEYS.classes}): not exported as a classifier`);
  if (!Array.isArray(imageShape) || imageShape.length !== 3) throw new RangeError(`the model has no image shape (${KEYS.imageShape})`);
  return { classes, imageShape: imageShape as [number, number, number], ...(normalize && { normalize }) };
}
