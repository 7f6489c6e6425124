/** Bumped when the summary's fields change meaning; readers say so for a newer one. */
export const SUMMARY_FORMAT = 1;

/** What summary.json holds: written once, when the run finished. */
export interface RunSummary {
  /** SUMMARY_FORMAT when written; absent in summaries from before it was recorded. */
  readonly format?: number;
  /** The experiment file, or "the tutorial". */
  readonly experiment: string;
  readonly description?: string;
  readonly architecture: string;
  readonly parameters: number;
  readonly epochs: number;
  /** Set when a stopping policy (or a sweep's scheduler) ended the run before its schedule did. */
  readonly ended?: 'early-stopping' | 'time-budget' | 'scheduler';
  readonly epochsRun?: number;
  /** With keepBest: the epoch whose weights the saved model holds. */
  readonly bestEpoch?: number;
  readonly batchSize: number;
  readonly seed: number;
  readonly split: { readonly train: number; readonly validation: number; readonly test?: number };
  readonly test?: {
    readonly loss: number;
    readonly accuracy: number;
    readonly perClassAccuracy?: Readonly<Record<string, number>>;
    readonly [metric: string]: unknown;
  };
  readonly backend: {
    readonly name: string;
    readonly package: string;
    readonly gpu: boolean;
    readonly threads?: number;
    /** Present where convolutions and products computed in bfloat16. */
    readonly precision?: 'bfloat16';
  };
  readonly seconds: number;
  readonly trainingSeconds: number;
  readonly [field: string]: unknown;
}
