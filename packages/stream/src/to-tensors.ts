import type { LabeledImages, PixelArray } from '@rxvision/dataset';
import type { Observable } from 'rxjs';
import { imagesToTensors, type ToTensorsOptions } from './images-to-tensors.js';
import type { Pending } from './pending.js';
import { readImages, type ReadImagesOptions } from './read-images.js';
import type { TensorBatch } from './tensor-batch.js';

/**
 * Turns batches of row indices into pending tensor batches: `readImages → imagesToTensors`, for a
 * stream without augmentations. Nothing is read ahead of demand.
 */
export function toTensors(dataset: LabeledImages<PixelArray>, options: ToTensorsOptions & ReadImagesOptions = {}) {
  return (source: Observable<Uint32Array>): Observable<Pending<TensorBatch>> =>
    source.pipe(readImages(dataset, options), imagesToTensors(dataset.classes.length, options));
}
