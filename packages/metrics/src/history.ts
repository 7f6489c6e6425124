/** One row of a training history: what the tutorial prints after each epoch, and more. */
export interface EpochRecord {
  /** 1-based over the whole schedule. */
  readonly epoch: number;
  /** Index of the schedule phase the epoch belongs to (0 for schedules without phases). */
  readonly phase: number;
  /** The rate of the epoch's last step (the same for every step of a phase schedule). */
  readonly learningRate: number;
  readonly trainLoss: number;
  readonly valLoss: number;
  readonly valAccuracy: number;
  /** Extra validation metrics by name, when the run asked for some. */
  readonly metrics?: Readonly<Record<string, number>>;
  readonly seconds: number;
}

export type History = readonly EpochRecord[];
