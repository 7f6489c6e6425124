import { createRandom, shuffleInPlace } from '@rxvision/dataset';
import { Observable } from 'rxjs';

export interface ShuffleOptions {
  readonly seed: number;
  /** Each epoch gets its own permutation, derived from seed and epoch alone. */
  readonly epoch: number;
}

/** Seeds per epoch so that epoch e's order never depends on how many epochs ran before it. */
export function epochSeed(seed: number, epoch: number): number {
  return (Math.imul(seed, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b)) >>> 0;
}

/** Permutes each index array it receives (a copy; the input is left as it was). */
export function shuffle(options: ShuffleOptions) {
  return (source: Observable<Uint32Array>): Observable<Uint32Array> =>
    new Observable<Uint32Array>((subscriber) => {
      const random = createRandom(epochSeed(options.seed, options.epoch));
      return source.subscribe({
        next: (rows) => subscriber.next(shuffleInPlace(rows.slice(), random)),
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}
