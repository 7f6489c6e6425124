import { describe, expect, test } from 'vitest';
import { classificationReport } from '../src/index.js';

// Rows are true classes, columns predicted ones. Every figure below is worked by hand from the
// counts, as scikit-learn's classification_report defines it (zero_division=0).
const counts = Uint32Array.from([5, 1, 0, 2, 3, 1, 0, 0, 4]);

describe('classificationReport', () => {
  test('precision, recall and F1 of each class and their macro and weighted means, worked by hand', () => {
    const report = classificationReport({ classes: 3, counts });
    // Class 0: 5 right of 6 rows, 7 predicted. Class 1: 3 of 6, 4 predicted. Class 2: 4 of 4, 5 predicted.
    const expected = [
      { precision: 5 / 7, recall: 5 / 6, f1: 10 / 13, support: 6 },
      { precision: 3 / 4, recall: 1 / 2, f1: 3 / 5, support: 6 },
      { precision: 4 / 5, recall: 1, f1: 8 / 9, support: 4 },
    ];
    report.perClass.forEach((scores, c) => {
      for (const key of ['precision', 'recall', 'f1', 'support'] as const) expect(scores[key]).toBeCloseTo(expected[c]![key], 12);
    });
    expect(report.macro.precision).toBeCloseTo((5 / 7 + 3 / 4 + 4 / 5) / 3, 12);
    expect(report.macro.recall).toBeCloseTo(7 / 9, 12);
    expect(report.macro.f1).toBeCloseTo((10 / 13 + 3 / 5 + 8 / 9) / 3, 12);
    expect(report.weighted.recall).toBeCloseTo(12 / 16, 12); // weighted recall is accuracy
    expect(report.weighted.f1).toBeCloseTo((6 * (10 / 13) + 6 * (3 / 5) + 4 * (8 / 9)) / 16, 12);
    expect(report.accuracy).toBeCloseTo(12 / 16, 12);
    expect(report.support).toBe(16);
  });

  test('a class never predicted, or never present, scores 0 where its figure is undefined', () => {
    // Class 2 has rows but is never predicted; class 1 is predicted but has no rows.
    const report = classificationReport({ classes: 3, counts: Uint32Array.from([3, 1, 0, 0, 0, 0, 1, 1, 0]) });
    expect(report.perClass[2]).toEqual({ precision: 0, recall: 0, f1: 0, support: 2 });
    expect(report.perClass[1]).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
    expect(report.perClass[0]!.precision).toBeCloseTo(3 / 4, 12);
    expect(report.macro.recall).toBeCloseTo(3 / 4 / 3, 12);
  });
});
