import { TestScheduler } from 'rxjs/testing';
import { describe, expect, test } from 'vitest';
import { batch, epochSeed, rowIndices, shuffle } from '../src/index.js';
import { firstValueFrom, of, toArray } from 'rxjs';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
const rows = (...values: number[]) => Uint32Array.from(values);

describe('batch', () => {
  test('cuts index arrays into batches, keeping the last partial one', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('-a------b|', { a: rows(0, 1, 2, 3, 4), b: rows(5, 6) });
      expectObservable(source.pipe(batch(2))).toBe('-(xyz)--w|', { x: rows(0, 1), y: rows(2, 3), z: rows(4), w: rows(5, 6) });
    });
  });

  test('unsubscribing stops the source', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a--b|', { a: rows(0, 1), b: rows(2) });
      expectObservable(source.pipe(batch(2)), '^--!').toBe('-x', { x: rows(0, 1) });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  test('batches are views of the index array that came in, not copies', async () => {
    const all = rows(0, 1, 2, 3);
    const batches = await firstValueFrom(of(all).pipe(batch(3), toArray()));
    expect(batches).toEqual([rows(0, 1, 2), rows(3)]);
    for (const part of batches) expect(part.buffer).toBe(all.buffer);
    expect(() => batch(0)).toThrow(RangeError);
  });
});

describe('shuffle', () => {
  test('permutes by seed and epoch: reproducible, different per epoch', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = rows(...Array.from({ length: 20 }, (_, i) => i));
      const once = (epoch: number) => {
        let out: Uint32Array | undefined;
        rowIndices(20)
          .pipe(shuffle({ seed: 43, epoch }))
          .subscribe((v) => (out = v));
        return out!;
      };
      expectObservable(cold('-a|', { a: input }).pipe(shuffle({ seed: 43, epoch: 0 }))).toBe('-p|', { p: once(0) });
      expect(once(0)).toEqual(once(0));
      expect(once(1)).not.toEqual(once(0));
      expect(Array.from(once(1)).sort((a, b) => a - b)).toEqual(Array.from(input));
    });
    // The input is not shuffled in place: its array is the same after a permutation went through.
    const input = rows(...Array.from({ length: 20 }, (_, i) => i));
    let shuffled: Uint32Array | undefined;
    of(input)
      .pipe(shuffle({ seed: 43, epoch: 0 }))
      .subscribe((value) => (shuffled = value));
    expect(shuffled).not.toEqual(input);
    expect(Array.from(input)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(epochSeed(43, 1)).not.toBe(epochSeed(43, 2));
  });

  test('unsubscribing stops the source', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('---a|', { a: rows(1, 2) });
      expectObservable(source.pipe(shuffle({ seed: 1, epoch: 0 })), '^-!').toBe('---');
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
  });
});
