export { BinaryRecordDecoder, type BinaryDatasetSpec, CIFAR10, CIFAR10_URL, type RawFileSpec, recordSize } from './cifar10.js';
export { cifar100, CIFAR100_COARSE_CLASSES, CIFAR100_FINE_CLASSES, CIFAR100_URL, type Cifar100Labels } from './cifar100.js';
export { ConcatenatedImages } from './concat-images.js';
export { DatasetError } from './errors.js';
export { type IdxArray, parseIdx } from './idx.js';
export { ImageDataset, type ImageChunk } from './image-dataset.js';
export type { LabeledImages, PixelArray } from './labeled-images.js';
export { type ImageArrays, labeledImages } from './labeled-images-from-arrays.js';
export { type LabelArray, labelArray, labelType } from './labels.js';
export { createRandom, createRandomFromState, permutation, type Random, type RandomState, shuffleInPlace } from './random.js';
export { imageRecordBatch, type LabelSets } from './record-batch.js';
export {
  FORMAT_VERSION,
  IMAGE_COLUMN,
  type ImageDatasetInfo,
  imageDatasetSchema,
  type ImageShape,
  LABEL_COLUMN,
  LABELS_COLUMN,
  MetadataKey,
  parseImageDatasetSchema,
} from './schema.js';
export { randomSplit, type SplitOptions } from './split.js';
export { DatasetView, subset } from './subset.js';
