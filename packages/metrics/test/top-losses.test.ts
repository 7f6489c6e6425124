import { TestScheduler } from 'rxjs/testing';
import { describe, expect, test } from 'vitest';
import { type PredictionBatch, topLosses } from '../src/index.js';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

// Logits ln(p): softmax gives p back where the p sum to 1, so every figure is worked by hand.
const batch = (probabilities: number[][], labels: number[], rows?: number[]): PredictionBatch => ({
  scores: Float32Array.from(probabilities.flat().map(Math.log)),
  labels,
  classes: 3,
  ...(rows && { rows }),
});
// Rows 10, 11: true class 0 at 0.2 (loss ln 5) and 0.5 (ln 2). Then, without rows (places 2 and 3 of
// the stream): true class 2 at 0.1 (ln 10, predicted 1 at 0.6) and true class 1 at 0.2 (ln 5, a tie with row 10).
const a = batch(
  [
    [0.2, 0.7, 0.1],
    [0.5, 0.25, 0.25],
  ],
  [0, 0],
  [10, 11],
);
const b = batch(
  [
    [0.3, 0.6, 0.1],
    [0.7, 0.2, 0.1],
  ],
  [2, 1],
);

describe('topLosses', () => {
  test('keeps the highest losses over the stream, highest first, the earlier first on a tie', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const worst = [
        { row: 2, label: 2, predicted: 1, probability: 0.6, trueProbability: 0.1, loss: Math.log(10) },
        { row: 10, label: 0, predicted: 1, probability: 0.7, trueProbability: 0.2, loss: Math.log(5) },
        { row: 3, label: 1, predicted: 0, probability: 0.7, trueProbability: 0.2, loss: Math.log(5) },
      ];
      const close = (kept: unknown) => {
        const rows = kept as typeof worst;
        expect(rows.map((r) => [r.row, r.label, r.predicted])).toEqual(worst.map((r) => [r.row, r.label, r.predicted]));
        rows.forEach((r, i) => {
          for (const key of ['probability', 'trueProbability', 'loss'] as const) expect(r[key]).toBeCloseTo(worst[i]![key], 6);
        });
        return true;
      };
      expectObservable(cold('-a-b-|', { a, b }).pipe(topLosses(3))).toBe('-----(x|)', {
        x: expect.toSatisfy(close),
      });
    });
  });

  test('emits nothing when unsubscribed before the stream ends, and unsubscribes from it', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-|', { a, b });
      expectObservable(source.pipe(topLosses(2)), '^--!').toBe('----');
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  test('refuses a count that is not a whole number ≥ 1', () => {
    expect(() => topLosses(0)).toThrow(/^topLosses: count must be a whole number ≥ 1, got 0$/);
  });
});
