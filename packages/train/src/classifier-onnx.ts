import { classifierMetadata, layersToOnnx } from '@rxvision/onnx';
import type { Classifier } from './classifier.js';

/**
 * A classifier as an ONNX model (bytes): the network, whose `probabilities` output is `predict`'s,
 * with its class names, image shape and normalisation in the model's metadata
 * (`readClassifierMetadata` of `@rxvision/onnx` reads them back). Throws `OnnxExportError` for a
 * layer ONNX has no translation of here.
 *
 * ```ts
 * const classifier = await loadClassifier('runs/r1/model');
 * await writeFile('runs/r1/model.onnx', classifierToOnnx(classifier));
 * ```
 */
export function classifierToOnnx(classifier: Classifier): Uint8Array {
  return layersToOnnx(classifier.model, {
    metadata: classifierMetadata(classifier),
    docString: `${classifier.model.name}: an image classifier trained with rxvision`,
  });
}
