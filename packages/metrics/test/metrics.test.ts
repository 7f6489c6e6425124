import { from, lastValueFrom, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, test } from 'vitest';
import { accuracy, confusionMatrix, meanLoss, perClassAccuracy, type PredictionBatch, topKAccuracy } from '../src/index.js';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

// Three classes; rows predict 0, 1, 2, 2 (ties go to the first class).
const a: PredictionBatch = { scores: Float32Array.from([5, 1, 1, 0, 3, 3, 0, 0, 1]), labels: [0, 2, 2], classes: 3, lossSum: 3 };
const b: PredictionBatch = { scores: Float32Array.from([0, 0, 9]), labels: [1], classes: 3, lossSum: 5 };

describe('accuracy', () => {
  test('counts correct rows over the whole stream, per sample', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-b-|', { a, b }).pipe(accuracy())).toBe('-----(x|)', { x: 2 / 4 });
    });
  });

  test('on multi-label batches (targets), a row counts when its top class is any it shows', () => {
    // Rows predict 0, 1, 2, 2 with labels 0, 2, 2, 2: by labels 3 of 4; by what each shows 2 of 4
    // (row 1 shows 1 and 2: a hit; rows 2 and 3 show 0, and 0 and 1: misses).
    const targets = [1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 0];
    const multi: PredictionBatch = { ...a, scores: Float32Array.from([...a.scores, 0, 0, 1]), labels: [0, 2, 2, 2], targets };
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a|', { a: multi }).pipe(accuracy())).toBe('--(x|)', { x: 2 / 4 });
    });
  });

  test('emits nothing when unsubscribed before completion, and unsubscribes its source', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-|', { a, b });
      expectObservable(source.pipe(accuracy()), '^--!').toBe('----');
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  test('propagates errors', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-#', { a }).pipe(accuracy())).toBe('---#');
    });
  });
});

describe('meanLoss', () => {
  test('weights every sample equally, so a short last batch is not overweighted', () => {
    scheduler().run(({ cold, expectObservable }) => {
      // Per-sample: (3 + 5) / 4 = 2; the mean of batch means would be (1 + 5) / 2 = 3.
      expectObservable(cold('-a-b-|', { a, b }).pipe(meanLoss())).toBe('-----(x|)', { x: 2 });
    });
  });

  test('fails clearly on batches without a loss', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const noLoss: PredictionBatch = { scores: a.scores, labels: a.labels, classes: a.classes };
      expectObservable(cold('-a-|', { a: noLoss }).pipe(meanLoss())).toBe(
        '-#',
        undefined,
        new TypeError('meanLoss needs prediction batches with lossSum'),
      );
    });
  });
});

describe('confusionMatrix', () => {
  test('counts (actual, predicted) pairs; per-class accuracy is each row’s diagonal share', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const expected = { classes: 3, counts: Uint32Array.from([1, 0, 0, 0, 0, 1, 0, 1, 1]) };
      expectObservable(cold('-a-b-|', { a, b }).pipe(confusionMatrix(3))).toBe('-----(m|)', { m: expected });
    });
    const matrix = { classes: 3, counts: Uint32Array.from([1, 0, 0, 0, 0, 1, 0, 1, 1]) };
    expect(perClassAccuracy(matrix)).toEqual([1, 0, 0.5]);
    expect(perClassAccuracy({ classes: 2, counts: new Uint32Array(4) })).toEqual([Number.NaN, Number.NaN]);
  });
});

describe('topKAccuracy', () => {
  test('counts rows whose class is among the k best scores; top-1 is accuracy', () => {
    scheduler().run(({ cold, expectObservable }) => {
      // Ranks of the true class: in a, 0, 1 (a tie, lost to the lower index) and 0; in b, 2 (below 9 and a tie).
      expectObservable(cold('-a-b-|', { a, b }).pipe(topKAccuracy(1))).toBe('-----(x|)', { x: 2 / 4 });
      expectObservable(cold('-a-b-|', { a, b }).pipe(topKAccuracy(2))).toBe('-----(x|)', { x: 3 / 4 });
      expectObservable(cold('-a-b-|', { a, b }).pipe(topKAccuracy(3))).toBe('-----(x|)', { x: 1 });
    });
  });

  test('unsubscribing stops the source; k must be a positive integer', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a--b-|', { a, b });
      expectObservable(source.pipe(topKAccuracy(2)), '^--!').toBe('---');
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
    expect(() => topKAccuracy(0)).toThrow('topKAccuracy: k must be a positive integer, got 0');
  });
});

describe('every operator keeps its state per subscription', () => {
  const expected = { classes: 3, counts: Uint32Array.from([1, 0, 0, 0, 0, 1, 0, 1, 1]) };
  test.each([
    ['accuracy', accuracy(), 2 / 4],
    ['meanLoss', meanLoss(), 2],
    ['confusionMatrix', confusionMatrix(3), expected],
    ['topKAccuracy', topKAccuracy(2), 3 / 4],
  ] as const)('%s: subscribing twice to the same pipe gives the same result twice', async (_name, operator, result) => {
    const piped = from([a, b]).pipe(operator as (source: Observable<PredictionBatch>) => Observable<unknown>);
    expect(await lastValueFrom(piped)).toEqual(result);
    expect(await lastValueFrom(piped)).toEqual(result);
  });
});
