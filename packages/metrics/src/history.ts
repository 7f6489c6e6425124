/** One row of a training history: what the tutorial prints after each epoch, and more. */
export interface EpochRecord {
  /** 1-based over the whole schedule. */
  readonly epoch: number;
  /** Index of the schedule phase the epoch belongs to. */
  readonly phase: number;
  readonly learningRate: number;
  readonly trainLoss: number;
  readonly valLoss: number;
  readonly valAccuracy: number;
  readonly seconds: number;
}

export type History = readonly EpochRecord[];
