import { createHash } from 'node:crypto';

/** The queue every sweep's trials go through; jobs name their sweep folder. */
export const TRIAL_QUEUE = 'rxvision-trials';

/**
 * What a worker needs to run one trial: paths that every worker reaches under the same names (a
 * shared folder), never the experiment's contents, so that the files stay the one record of a trial.
 */
export interface TrialJob {
  /** The sweep folder, as `rxvision sweep --out` made it. */
  readonly sweep: string;
  readonly trial: string;
  /** The trial's experiment file (`<sweep>/trials/<trial>.json`). */
  readonly experiment: string;
  /** Where the trial's run goes (`<sweep>/<trial>`): its checkpoint, history and summary. */
  readonly runDir: string;
}

/** Same sweep folder, same trial, same settings: same job. */
export function trialJobId(job: TrialJob, experiment: unknown): string {
  const hash = createHash('sha256')
    .update(JSON.stringify([job.sweep, job.trial, experiment]))
    .digest('hex')
    .slice(0, 16);
  // BullMQ refuses ids with ':' (its key separator) and plain integers.
  return `${job.trial}-${hash}`;
}
