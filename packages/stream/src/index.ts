export { batch } from './batch.js';
export { cutout, type CutoutOptions } from './cutout.js';
export { cutmix, type MixOptions, mixup } from './mix-batch.js';
export { balance, type BalanceOptions } from './balance.js';
export { type EpochBatches, epochBatches, type EpochBatchesOptions } from './epoch-batches.js';
export { evaluationBatches } from './evaluation-batches.js';
export { horizontalFlip, type HorizontalFlipOptions, isMirrored, mirrorImage } from './horizontal-flip.js';
export type { ImageBatch } from './image-batch.js';
export { imageRandom } from './image-random.js';
export { imagesToTensors, type ToTensorsOptions } from './images-to-tensors.js';
export { type ImageTransform, mapImages } from './map-images.js';
export { normalize, type NormalizeOptions } from './normalize.js';
export { multiHotTargets, type MultiHotTargetsOptions } from './multi-hot-targets.js';
export type { Disposable, Pending } from './pending.js';
export { prefetch } from './prefetch.js';
export { type CropFill, randomCrop, type RandomCropOptions, translateImage } from './random-crop.js';
export { readImages, type ReadImagesOptions } from './read-images.js';
export { centerCrop, type CropBox, cropBox, randomResizedCrop, type RandomResizedCropOptions, resizedCrop } from './resized-crop.js';
export { rowIndices } from './row-indices.js';
export { epochSeed, shuffle, type ShuffleOptions } from './shuffle.js';
export type { TensorBatch } from './tensor-batch.js';
export { toTensors } from './to-tensors.js';
export { adjustBrightness, adjustContrast, adjustHue, adjustSaturation } from './color-kernels.js';
export { colorJitter, type ColorJitterOptions, type JitterDraw, jitterDraw, jitterImage, type JitterRange } from './color-jitter.js';
export { randomRotation, type RandomRotationOptions, rotateImage } from './random-rotation.js';
export { adjustSharpness, autocontrast, equalize, posterize, solarize } from './tone-kernels.js';
export {
  AUGMENT_OPS,
  type AugmentOp,
  type AugmentOpDraw,
  type AugmentRanges,
  type AugmentSpace,
  applyAugmentOp,
  augmentSpace,
} from './augment-ops.js';
export { trivialAugment, trivialAugmentDraw, type TrivialAugmentOptions, trivialAugmentSpace } from './trivial-augment.js';
export { randAugment, randAugmentDraws, type RandAugmentOptions, randAugmentSpace } from './rand-augment.js';
