import type { RunSummary } from '@rxvision/run-folder';
import type { Evaluation, FitOptions, TrainingEvent, TrainingPosition } from '@rxvision/train';
import type { Observable } from 'rxjs';
import type { Precision } from './experiment.js';
import type { RunConfig } from './run-config.js';

/** The backend the run trains on, as `selectBackend` of `@rxvision/backend` reports it. */
export interface BackendDescription {
  /** The tfjs backend's name. */
  readonly backend: string;
  /** The package that provides it. */
  readonly package: string;
  readonly gpu?: boolean | undefined;
  readonly threads?: number;
  /** What its convolutions and products compute in (absent: float32). */
  readonly precision?: Precision;
}

/** What the experiment asks of the backend besides its kernels. */
export interface BackendSettings {
  /** The experiment's `precision`: the backend must compute in it, or refuse. */
  readonly precision: Precision;
}

export interface RunOptions {
  /** The run folder: made if missing, and this process's alone while the run writes into it. */
  readonly folder: string;
  /** Names the experiment in messages and the summary (its file, "the tutorial"); default "experiment". */
  readonly source?: string;
  /** Folder that relative paths in the experiment are taken from (the experiment file's). */
  readonly baseDir?: string;
  /**
   * Picks and registers the tfjs backend once the model can be built (backends are the
   * application's to register): `probe` trains one step of a throwaway model and throws where the
   * backend lacks a kernel; `settings` carries the experiment's precision. Returns what the summary
   * records; without it, the current backend runs (in float32).
   *
   * ```ts
   * runExperiment(experiment, { folder, backend: (probe, { precision }) => selectBackend('auto', { probe, precision }) });
   * ```
   */
  readonly backend?: (probe: () => void, settings: BackendSettings) => Promise<BackendDescription>;
  /** Each value: finish the step, write a checkpoint, emit `stopped` and complete (resume with `resumeExperiment`). */
  readonly stop?: Observable<unknown>;
  /** Also write TensorBoard event files into this folder as the run goes. */
  readonly tensorboard?: string;
  /** How long the run folder's claim lasts without a refresh before another process may take it over. */
  readonly staleAfterMs?: number;
  /** Asked between epochs whether to go on, stop or pause: a sweep's scheduler (see `fit`'s `trialPolicy`). */
  readonly trialPolicy?: FitOptions['trialPolicy'];
}

/** Progress of preparing the dataset on its first use (CIFAR-10's download or unpacking). */
export interface RunPreparing {
  readonly type: 'prepare';
  readonly bytes: number;
  readonly totalBytes: number | undefined;
}

/** The run folder is ours, the model built (or restored), training about to begin. */
export interface RunStarted {
  readonly type: 'start';
  readonly folder: string;
  readonly config: RunConfig;
  readonly stepsPerEpoch: number;
  readonly epochs: number;
  readonly backend: BackendDescription;
  /** Where a resumed run picks up. */
  readonly resumedAt?: TrainingPosition;
  readonly parameters: number;
}

/** The last event of a run that was not stopped: model, charts and summary are written. */
export interface RunFinished {
  readonly type: 'finish';
  readonly summary: RunSummary;
  /** On the test split, when the dataset has one. */
  readonly test?: Evaluation;
}

/** Everything a run reports, in order: prepare*, start, fit's events (batch, epoch, then end or stopped), finish. */
export type RunEvent = RunPreparing | RunStarted | TrainingEvent | RunFinished;
