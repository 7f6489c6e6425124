import { map, Observable } from 'rxjs';
import type { ImageBatch } from './image-batch.js';
import type { Pending } from './pending.js';

/** A step between reading images and making tensors: what `epochBatches`' `transforms` take. */
export type ImageTransform = (source: Observable<Pending<ImageBatch>>) => Observable<Pending<ImageBatch>>;

/**
 * The operator under every augmentation: applies `transform` to each batch when the batch is
 * pulled, so a pending batch stays free until someone subscribes to it.
 */
export function mapImages(transform: (batch: ImageBatch) => ImageBatch): ImageTransform {
  return (source) =>
    new Observable((subscriber) =>
      source.subscribe({
        next: (pending) => subscriber.next(pending.pipe(map(transform))),
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      }),
    );
}
