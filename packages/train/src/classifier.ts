import type { ImageShape, LabeledImages, PixelArray } from '@rxvision/dataset';
import { evaluationBatches, type ImageTransform, normalize, type NormalizeOptions } from '@rxvision/stream';
import { softmax, type Tensor, tidy } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { concatMap, from, type Observable } from 'rxjs';
import { RxvisionError } from '@rxvision/errors';

/**
 * What a model needs around it to classify images as it was trained to: the class names of its
 * outputs and the per-channel normalisation of its inputs (pixels are scaled to [0, 1] first, as
 * the batch stream does). Saved inside the model's own files, so it travels with them.
 */
export interface Preprocessing {
  readonly classes: readonly string[];
  /** Absent for a model trained on plain [0, 1] pixels (the tutorial). */
  readonly normalize?: NormalizeOptions;
}

/** A model with its preprocessing: what `predict` takes and `saveClassifier` writes. */
export interface Classifier extends Preprocessing {
  readonly model: LayersModel;
  /** [height, width, channels] of the images the model takes, from its input layer. */
  readonly imageShape: ImageShape;
}

/** A model that cannot be used as a classifier (no class names, outputs that do not match them); the message says why. */
export class ClassifierError extends RxvisionError {
  override readonly name = 'ClassifierError';
}

/** Images to classify: any `LabeledImages` (a dataset, a split), or pixels without labels (bytes, or float32 as the model takes them before normalisation). */
export type Images = Pick<LabeledImages<PixelArray>, 'length' | 'shape' | 'image'>;

/**
 * Writes `preprocessing` into `model`'s user-defined metadata (saved with it by `model.save`) and
 * returns the classifier, checked as `classifierOf` checks a loaded one.
 *
 * ```ts
 * const classifier = asClassifier(model, { classes: train.classes, normalize: { mean: [0.5], std: [0.25] } });
 * await saveClassifier('runs/r1/model', classifier);
 * ```
 */
export function asClassifier(model: LayersModel, preprocessing: Preprocessing): Classifier {
  model.setUserDefinedMetadata({
    classes: [...preprocessing.classes],
    ...(preprocessing.normalize && { normalize: { mean: [...preprocessing.normalize.mean], std: [...preprocessing.normalize.std] } }),
  });
  return classifierOf(model, 'model');
}

/** The classifier a model's metadata describes (as `asClassifier` wrote it); `where` names the model in errors. */
export function classifierOf(model: LayersModel, where: string): Classifier {
  const { classes, normalize: normalisation } = (model.getUserDefinedMetadata() ?? {}) as {
    classes?: unknown;
    normalize?: NormalizeOptions;
  };
  if (!Array.isArray(classes) || !classes.every((name) => typeof name === 'string'))
    throw new ClassifierError(`${where}: the model has no class names (save it with asClassifier's preprocessing)`);
  const outputs = (model.outputs[0]!.shape as (number | null)[]).at(-1);
  if (outputs !== classes.length) throw new ClassifierError(`${where}: the model has ${outputs} outputs but ${classes.length} class names`);
  const imageShape = imageShapeOf(model, where);
  if (normalisation !== undefined && !isNormalisation(normalisation, imageShape[2]))
    throw new ClassifierError(`${where}: the model's normalisation is not one mean and one positive std per channel`);
  return { model, classes, imageShape, ...(normalisation && { normalize: normalisation }) };
}

/** The pixel transforms every split gets before the model: what training's evaluation applied, and `predict` applies. */
export function preprocessingTransforms(preprocessing: Preprocessing): ImageTransform[] {
  return preprocessing.normalize ? [normalize(preprocessing.normalize)] : [];
}

export interface PredictOptions {
  /** Images per forward pass (default 256). */
  readonly batchSize?: number;
}

/**
 * Class probabilities (softmax of the model's outputs) of each image, in order, one Float32Array
 * per image; the images go through the same batch stream and transforms as training's validation.
 *
 * ```ts
 * const classifier = await loadClassifier('runs/r1/model');
 * predict(classifier, images).subscribe((probabilities) => console.log(topClasses(classifier, probabilities, 3)));
 * ```
 */
export function predict(classifier: Classifier, images: Images, options: PredictOptions = {}): Observable<Float32Array> {
  const shape = classifier.imageShape;
  if (images.shape.join() !== shape.join())
    throw new ClassifierError(`predict: the model takes ${shape.join('×')} images, got ${images.shape.join('×')}`);
  // The batch stream wants labels: unlabelled images get class 0, which nothing here reads.
  const labelled: LabeledImages<PixelArray> = {
    length: images.length,
    shape,
    classes: classifier.classes,
    image: (i) => images.image(i),
    label: () => 0,
  };
  const batches = evaluationBatches(labelled, { batchSize: options.batchSize ?? 256, transforms: preprocessingTransforms(classifier) });
  return batches().pipe(
    concatMap((pending) => pending),
    concatMap(async (batch) => {
      const probabilities = tidy(() => softmax(classifier.model.predict(batch.xs) as Tensor));
      batch.dispose();
      try {
        const data = (await probabilities.data()) as Float32Array;
        const classes = classifier.classes.length;
        return Array.from({ length: probabilities.shape[0]! }, (_, row) => data.slice(row * classes, (row + 1) * classes));
      } finally {
        probabilities.dispose();
      }
    }),
    concatMap((rows) => from(rows)),
  );
}

/** The `k` most probable classes of one image's probabilities, most probable first. */
export function topClasses(
  preprocessing: Preprocessing,
  probabilities: ArrayLike<number>,
  k: number,
): { class: string; probability: number }[] {
  return Array.from(probabilities, (probability, c) => ({ class: preprocessing.classes[c]!, probability }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, k);
}

/** The [height, width, channels] of the images a model takes; a model that takes no images is refused. */
function imageShapeOf(model: LayersModel, where: string): ImageShape {
  const [, ...shape] = model.inputs[0]!.shape;
  if (shape.length !== 3 || !shape.every((n) => Number.isInteger(n) && n! > 0)) {
    throw new ClassifierError(`${where}: the model takes inputs of shape [${shape.join(', ')}], not images (height, width, channels)`);
  }
  return shape as unknown as ImageShape;
}

function isNormalisation(value: NormalizeOptions, channels: number): boolean {
  const numbers = (list: unknown) =>
    Array.isArray(list) && list.length === channels && list.every((n) => typeof n === 'number' && Number.isFinite(n));
  return numbers(value.mean) && numbers(value.std) && value.std.every((s) => s > 0);
}
