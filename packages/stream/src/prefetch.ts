import { Observable, ReplaySubject, type Subscription } from 'rxjs';
import type { Disposable, Pending } from './pending.js';

interface Slot<T> {
  readonly pending: Pending<T>;
  /** Set once the slot has been started ahead of demand. */
  result?: ReplaySubject<T>;
  running?: Subscription;
  /** The consumer subscribed: from then on the value is the consumer's to dispose. */
  taken: boolean;
}

/**
 * Starts up to `ahead` pending items before they are pulled: when the consumer pulls item i, items
 * i+1..i+ahead start too, so that batch i+1 is being prepared while step i runs. Never more than
 * `ahead` items are alive beyond the one in use. Unsubscribing stops everything in flight and
 * disposes whatever was prepared and never taken.
 *
 * Completion waits until the last item has been pulled, so a `concatMap` downstream can still
 * take every prefetched item after the source has completed.
 */
export function prefetch<T extends Disposable>(ahead: number) {
  if (!Number.isInteger(ahead) || ahead < 0) throw new RangeError(`prefetch depth must be a whole number, got ${ahead}`);
  return (source: Observable<Pending<T>>): Observable<Pending<T>> =>
    new Observable<Pending<T>>((subscriber) => {
      const slots: Slot<T>[] = [];
      let pulled = -1; // index of the last item the consumer pulled
      let sourceDone = false;
      let closed = false;

      const start = (slot: Slot<T>): void => {
        if (slot.result || slot.taken || closed) return;
        const result = new ReplaySubject<T>(1);
        slot.result = result;
        slot.running = slot.pending.subscribe(result);
      };
      const startWindow = (): void => {
        for (let i = pulled + 1; i <= pulled + ahead && i < slots.length; i++) start(slots[i]!);
      };
      const completeIfDone = (): void => {
        if (sourceDone && pulled === slots.length - 1) subscriber.complete();
      };
      const pull = (index: number): Pending<T> =>
        new Observable<T>((consumer) => {
          const slot = slots[index]!;
          slot.taken = true;
          pulled = Math.max(pulled, index);
          const inner = (slot.result ?? slot.pending).subscribe(consumer);
          startWindow();
          completeIfDone();
          return inner;
        });

      const upstream = source.subscribe({
        next: (pending) => {
          slots.push({ pending, taken: false });
          startWindow();
          subscriber.next(pull(slots.length - 1));
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          sourceDone = true;
          completeIfDone();
        },
      });
      subscriber.add(upstream);
      subscriber.add(() => {
        closed = true;
        for (const slot of slots) {
          if (!slot.result || slot.taken) continue;
          // Prepared for a consumer that will never come: free it now or when it arrives.
          slot.result.subscribe({ next: (value) => value.dispose(), error: () => undefined });
          slot.running?.unsubscribe();
        }
      });
    });
}
