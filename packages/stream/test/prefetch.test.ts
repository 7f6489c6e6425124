import { concatMap, map, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, test } from 'vitest';
import { prefetch } from '../src/index.js';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

/** A value that records its disposal. */
class Item {
  disposed = false;
  constructor(readonly name: string) {}
  dispose(): void {
    this.disposed = true;
  }
}

describe('prefetch', () => {
  test('without prefetch, concatMap pulls one item after another (each takes 3 frames)', () => {
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const a = cold('---(a|)', { a: new Item('A') });
      const b = cold('---(b|)', { b: new Item('B') });
      const source = hot('(xy|)', { x: a, y: b });
      const names = source.pipe(
        prefetch<Item>(0),
        concatMap((pending: Observable<Item>) => pending),
        map((item) => item.name),
      );
      expectObservable(names).toBe('---a--(b|)', { a: 'A', b: 'B' });
      expectSubscriptions(a.subscriptions).toBe('^--!');
      expectSubscriptions(b.subscriptions).toBe('---^--!');
    });
  });

  test('prefetch(1) prepares the next item while the consumer still uses the current one', () => {
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      // Preparing an item takes 3 frames, and so does the consumer's step with it.
      const a = cold('---(a|)', { a: new Item('A') });
      const b = cold('---(b|)', { b: new Item('B') });
      const c = cold('---(c|)', { c: new Item('C') });
      const source = hot('(xyz|)', { x: a, y: b, z: c });
      const names = source.pipe(
        prefetch<Item>(1),
        concatMap((pending) => pending.pipe(concatMap((item) => cold('---(n|)', { n: item.name })))),
      );
      expectObservable(names).toBe('------a--b--(c|)', { a: 'A', b: 'B', c: 'C' });
      // b starts when a is pulled, so it is ready the moment a's step ends; without prefetch
      // the steps would end at frames 6, 12 and 18.
      expectSubscriptions(a.subscriptions).toBe('^--!');
      expectSubscriptions(b.subscriptions).toBe('^--!');
      expectSubscriptions(c.subscriptions).toBe('------^--!');
    });
  });

  test('never runs more than `ahead` items beyond the one pulled', () => {
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const items = ['A', 'B', 'C', 'D'].map((name) => cold('-(v|)', { v: new Item(name) }));
      const [a, b, c, d] = items as [
        ReturnType<typeof cold<Item>>,
        ReturnType<typeof cold<Item>>,
        ReturnType<typeof cold<Item>>,
        ReturnType<typeof cold<Item>>,
      ];
      const source = hot('(abcd|)', { a, b, c, d });
      // The consumer holds each item for 4 frames before pulling the next.
      const consumed = source.pipe(
        prefetch<Item>(2),
        concatMap((pending) => pending.pipe(concatMap((item) => cold('----(n|)', { n: item.name })))),
      );
      expectObservable(consumed).toBe('-----a---b---c---(d|)', { a: 'A', b: 'B', c: 'C', d: 'D' });
      expectSubscriptions(items[0]!.subscriptions).toBe('^!');
      expectSubscriptions(items[1]!.subscriptions).toBe('^!');
      expectSubscriptions(items[2]!.subscriptions).toBe('^!');
      expectSubscriptions(items[3]!.subscriptions).toBe('-----^!');
    });
  });

  test('unsubscribing stops the source and items in flight, and disposes prepared items never pulled', () => {
    const prepared = new Item('B');
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const a = cold('-(a|)', { a: new Item('A') });
      const b = cold('-(b|)', { b: prepared });
      const c = cold('--------(c|)', { c: new Item('C') });
      const source = hot('(xy)-z---|', { x: a, y: b, z: c });
      const consumed = source.pipe(
        prefetch<Item>(2),
        concatMap((pending) => pending.pipe(concatMap((item) => cold('------(n|)', { n: item.name })))),
      );
      expectObservable(consumed, '^-----!').toBe('------');
      expectSubscriptions(source.subscriptions).toBe('^-----!');
      expectSubscriptions(c.subscriptions).toBe('-----^!');
    });
    expect(prepared.disposed).toBe(true);
  });

  test('errors from the source pass through', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const a = cold('-(a|)', { a: new Item('A') });
      expectObservable(
        hot('x-#', { x: a }).pipe(
          prefetch<Item>(1),
          concatMap((p) => p),
          map((i) => i.name),
        ),
      ).toBe('-a#', { a: 'A' });
    });
  });
});
