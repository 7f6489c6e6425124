import { join, resolve } from 'node:path';

/**
 * The files of a run folder, by what they hold: the one place their names are written. Everything
 * that reads or writes a run (the CLI, sweeps, the dashboard, compare) names them through this.
 */
export const RUN_FILES = {
  /** The experiment as it ran: defaults filled in, paths absolute. Written when the run starts. */
  experiment: 'experiment.json',
  /** One epoch record per epoch, rewritten whole as each epoch ends. */
  history: 'history.json',
  /** Written once, when the run finished: a run folder with one is finished. */
  summary: 'summary.json',
  /** The trained model (model.json, weights.bin), with its class names and normalisation. */
  model: 'model',
  /** The model as ONNX (`rxvision export`), with the same class names and normalisation in its metadata: what the dashboard's classify page runs. */
  onnxModel: 'model.onnx',
  /** Where an interrupted run resumes from (weights, optimizer, position, history). */
  checkpoint: 'checkpoint',
  /**
   * Rewritten every few seconds while the run trains, whoever started it: where it is (epoch, step,
   * samples/s, time left) and its per-step loss and learning rate, thinned to a bounded size.
   */
  progress: 'progress.json',
  /** Written when the run fails: the line that says why (removed when it starts again). */
  failure: 'failure.json',
  samples: 'samples.png',
  loss: 'loss.png',
  accuracy: 'accuracy.png',
  confusionMatrix: 'confusion-matrix.png',
  /** The test images the model gets most wrong: each with its classes, probabilities and loss, and the image as a PNG data URL. */
  topLosses: 'top-losses.json',
} as const;

/** The pictures a run folder may hold, as a dashboard shows them. */
export const RUN_PICTURES = [RUN_FILES.loss, RUN_FILES.accuracy, RUN_FILES.confusionMatrix, RUN_FILES.samples] as const;

/** A sweep folder: its record, its trials' experiment files, and the chart of their curves; each trial is a run folder beside them. */
export const SWEEP_FILES = {
  record: 'sweep.json',
  trials: 'trials',
  comparison: 'comparison.png',
} as const;

/** The path of one of a run folder's files. */
export function runFile(run: string, file: keyof typeof RUN_FILES): string {
  return join(resolve(run), RUN_FILES[file]);
}

/** The experiment file of trial `trial` in sweep folder `sweep` (its run folder is `sweep/trial`). */
export function sweepTrialFile(sweep: string, trial: string): string {
  return join(resolve(sweep), SWEEP_FILES.trials, `${trial}.json`);
}
