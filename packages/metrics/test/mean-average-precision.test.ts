import { readFileSync } from 'node:fs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, test } from 'vitest';
import { averagePrecision, meanAveragePrecision, type PredictionBatch } from '../src/index.js';

// scikit-learn 1.2's average_precision_score on fixed scores and multi-hot targets, one case with
// tied scores, written by tools/torch-reference/multi_label.py.
const reference = JSON.parse(readFileSync(new URL('./fixtures/average-precision.json', import.meta.url), 'utf8')) as {
  cases: { classes: number; scores: number[]; targets: number[]; averagePrecision: number[]; meanAveragePrecision: number }[];
};
const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

/** A case's rows as batches of at most `size`, with multi-hot targets. */
function batches({ classes, scores, targets }: (typeof reference.cases)[number], size: number): PredictionBatch[] {
  const rows = scores.length / classes;
  return Array.from({ length: Math.ceil(rows / size) }, (_, b) => {
    const [from, to] = [b * size * classes, Math.min(rows, (b + 1) * size) * classes];
    return {
      scores: Float32Array.from(scores.slice(from, to)),
      targets: targets.slice(from, to),
      labels: new Array((to - from) / classes).fill(0),
      classes,
    };
  });
}

describe('averagePrecision and meanAveragePrecision', () => {
  test.each(reference.cases.map((c, i) => [i, c] as const))("give scikit-learn's figures, case %i", (_, c) => {
    const rows = c.scores.length / c.classes;
    c.averagePrecision.forEach((expected, k) => {
      const column = (values: number[]) => Array.from({ length: rows }, (_, row) => values[row * c.classes + k]!);
      expect(
        averagePrecision(
          column(c.scores),
          column(c.targets).map((t) => t === 1),
        ),
      ).toBeCloseTo(expected, 12);
    });
    scheduler().run(({ cold, expectObservable }) => {
      const parts = batches(c, 9);
      const marbles = `-${parts.map((_, i) => String.fromCharCode(97 + i)).join('')}|`;
      const values = Object.fromEntries(parts.map((part, i) => [String.fromCharCode(97 + i), part]));
      expectObservable(cold(marbles, values).pipe(meanAveragePrecision())).toBe(`${'-'.repeat(parts.length + 1)}(x|)`, {
        x: expect.closeTo(c.meanAveragePrecision, 12),
      });
    });
  });

  test('without targets, counts each row’s label as its one positive; leaves out classes with none', () => {
    // Class 0: positives ranked 1st, 3rd and 4th → (1 + 2/3 + 3/4) / 3; class 1: its one positive
    // ranked 2nd → 1/2; class 2 has none.
    const scores = Float32Array.from([0.9, 0, 0, 0.5, 0.8, 0, 0.7, 0.1, 0, 0.8, 0.7, 0]);
    const batch: PredictionBatch = { scores, labels: [0, 0, 0, 1], classes: 3 };
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a|', { a: batch }).pipe(meanAveragePrecision())).toBe('--(x|)', {
        x: expect.closeTo(((1 + 2 / 3 + 3 / 4) / 3 + 1 / 2) / 2, 12),
      });
    });
    expect(averagePrecision([0.3, 0.1], [false, false])).toBeNaN();
  });

  test('emits nothing when unsubscribed before completion, and unsubscribes its source', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-a-|', { a: batches(reference.cases[0]!, 40)[0]! });
      expectObservable(source.pipe(meanAveragePrecision()), '^--!').toBe('----');
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });
});
