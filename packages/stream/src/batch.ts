import { Observable } from 'rxjs';

/**
 * Cuts index arrays into batches of `size` rows (views, no copies). The last, partial batch is
 * kept, as PyTorch's DataLoader does by default.
 */
export function batch(size: number) {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`batch size must be a positive integer, got ${size}`);
  return (source: Observable<Uint32Array>): Observable<Uint32Array> =>
    new Observable<Uint32Array>((subscriber) =>
      source.subscribe({
        next: (rows) => {
          for (let start = 0; start < rows.length && !subscriber.closed; start += size) {
            subscriber.next(rows.subarray(start, start + size));
          }
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      }),
    );
}
