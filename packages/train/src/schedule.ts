/** One phase of a schedule: like one call of the tutorial's `fit(epochs, lr)`. */
export interface Phase {
  readonly epochs: number;
  readonly learningRate: number;
}

export type Schedule = readonly Phase[];

/** The tutorial's six calls: fit(10, 0.05), fit(8, 0.005), fit(7, 0.01), fit(4, 0.001), fit(10, 0.0001), fit(25, 0.001). */
export const TUTORIAL_SCHEDULE: Schedule = [
  { epochs: 10, learningRate: 0.05 },
  { epochs: 8, learningRate: 0.005 },
  { epochs: 7, learningRate: 0.01 },
  { epochs: 4, learningRate: 0.001 },
  { epochs: 10, learningRate: 0.0001 },
  { epochs: 25, learningRate: 0.001 },
];

/** Parses "10@0.05,8@0.005": epochs@learning-rate, comma separated. */
export function parseSchedule(text: string): Schedule {
  const phases = text.split(',').map((part) => {
    const match = /^\s*(\d+)\s*@\s*([0-9]*\.?[0-9]+(?:e-?\d+)?)\s*$/i.exec(part);
    if (!match) throw new SyntaxError(`"${part.trim()}" is not EPOCHS@LEARNING_RATE (for example 10@0.05)`);
    const phase = { epochs: Number(match[1]), learningRate: Number(match[2]) };
    if (phase.epochs < 1 || !(phase.learningRate > 0))
      throw new RangeError(`"${part.trim()}": epochs must be ≥ 1 and the learning rate > 0`);
    return phase;
  });
  return phases;
}

export function totalEpochs(schedule: Schedule): number {
  return schedule.reduce((sum, phase) => sum + phase.epochs, 0);
}
