import type { ConfusionMatrix } from './confusion-matrix.js';

/** One class's figures, as scikit-learn's `classification_report` gives them. */
export interface ClassScores {
  /** Of the rows predicted as the class, the share that are (0 where none is: scikit-learn's `zero_division=0`). */
  readonly precision: number;
  /** Of the class's rows, the share predicted as it (0 where it has none). */
  readonly recall: number;
  /** The harmonic mean of the two (0 where both are 0). */
  readonly f1: number;
  /** The class's rows. */
  readonly support: number;
}

export type AveragedScores = Omit<ClassScores, 'support'>;

export interface ClassificationReport {
  readonly perClass: readonly ClassScores[];
  /** The unweighted mean over the classes. */
  readonly macro: AveragedScores;
  /** The mean weighted by each class's rows. */
  readonly weighted: AveragedScores;
  readonly accuracy: number;
  readonly support: number;
}

/** Precision, recall and F1 of each class and averaged (macro and weighted), from a confusion matrix. */
export function classificationReport({ classes, counts }: ConfusionMatrix): ClassificationReport {
  const at = (actual: number, predicted: number) => counts[actual * classes + predicted]!;
  const sum = (f: (c: number) => number) => Array.from({ length: classes }, (_, c) => f(c)).reduce((a, b) => a + b, 0);
  const ratio = (part: number, whole: number) => (whole === 0 ? 0 : part / whole);
  const perClass = Array.from({ length: classes }, (_, c): ClassScores => {
    const support = sum((predicted) => at(c, predicted));
    const precision = ratio(
      at(c, c),
      sum((actual) => at(actual, c)),
    );
    const recall = ratio(at(c, c), support);
    return { precision, recall, f1: ratio(2 * precision * recall, precision + recall), support };
  });
  const support = perClass.reduce((total, scores) => total + scores.support, 0);
  const mean = (weight: (scores: ClassScores) => number, total: number): AveragedScores => ({
    precision: ratio(
      sum((c) => weight(perClass[c]!) * perClass[c]!.precision),
      total,
    ),
    recall: ratio(
      sum((c) => weight(perClass[c]!) * perClass[c]!.recall),
      total,
    ),
    f1: ratio(
      sum((c) => weight(perClass[c]!) * perClass[c]!.f1),
      total,
    ),
  });
  return {
    perClass,
    macro: mean(() => 1, classes),
    weighted: mean((scores) => scores.support, support),
    accuracy: ratio(
      sum((c) => at(c, c)),
      support,
    ),
    support,
  };
}
