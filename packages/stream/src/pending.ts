import type { Observable } from 'rxjs';

/**
 * A unit of work that starts only when subscribed, emits one value and completes. Batch streams
 * are streams of `Pending` batches: emitting one costs nothing, and the consumer pulls a batch by
 * subscribing to it (as `concatMap` does, one after another). That is how this package gets
 * backpressure out of RxJS, which has none: whoever subscribes to a `Pending` owns its value.
 */
export type Pending<T> = Observable<T>;

/** Something that holds resources (tensors) until disposed. */
export interface Disposable {
  dispose(): void;
}
