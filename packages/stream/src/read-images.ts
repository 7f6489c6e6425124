import type { LabeledImages, PixelArray } from '@rxvision/dataset';
import { defer, Observable, of } from 'rxjs';
import type { ImageBatch } from './image-batch.js';
import type { Pending } from './pending.js';

export interface ReadImagesOptions {
  /** The epoch the batches belong to (seeds augmentations); default 0. */
  readonly epoch?: number;
  /** The index of the first batch within its epoch, when earlier ones were skipped; default 0. */
  readonly firstIndex?: number;
}

/**
 * Turns batches of row indices into pending image batches: pixels are read from the dataset only
 * when a batch is pulled, so nothing is read ahead of demand. Byte pixels are scaled to [0, 1];
 * float32 pixels are taken as they are.
 */
export function readImages(dataset: LabeledImages<PixelArray>, options: ReadImagesOptions = {}) {
  const { epoch = 0, firstIndex = 0 } = options;
  const shape = dataset.shape;
  const pixelsPerImage = shape[0] * shape[1] * shape[2];
  return (source: Observable<Uint32Array>): Observable<Pending<ImageBatch>> =>
    new Observable((subscriber) => {
      let index = firstIndex; // per subscription: each run of the epoch counts from the start
      return source.subscribe({
        next: (rows) => {
          const at = index++;
          subscriber.next(defer(() => of(read(dataset, rows, pixelsPerImage, shape, epoch, at))));
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}

function read(
  dataset: LabeledImages<PixelArray>,
  rows: Uint32Array,
  pixelsPerImage: number,
  shape: ImageBatch['shape'],
  epoch: number,
  index: number,
): ImageBatch {
  const size = rows.length;
  const pixels = new Float32Array(size * pixelsPerImage);
  const labels = new Uint32Array(size); // any class count
  for (let i = 0; i < size; i++) {
    const image = dataset.image(rows[i]!);
    const scale = image instanceof Float32Array ? 1 : 1 / 255;
    const offset = i * pixelsPerImage;
    for (let p = 0; p < pixelsPerImage; p++) pixels[offset + p] = image[p]! * scale;
    labels[i] = dataset.label(rows[i]!);
  }
  return { rows: rows.slice(), labels, pixels, shape, epoch, index };
}
