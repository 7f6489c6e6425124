import { Observable } from 'rxjs';

/** The rows 0..length-1 of a dataset (or of a split view) in order, as one index array. */
export function rowIndices(length: number): Observable<Uint32Array> {
  return new Observable<Uint32Array>((subscriber) => {
    const rows = new Uint32Array(length);
    for (let i = 0; i < length; i++) rows[i] = i;
    subscriber.next(rows);
    subscriber.complete();
  });
}
