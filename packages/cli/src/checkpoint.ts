import { join, resolve } from 'node:path';
import type { FolderClaim } from '@rxvision/folder';
import type { Experiment } from '@rxvision/experiment';
import { runFile } from '@rxvision/run-folder';
import type { ResumeFrom, Schedule, TrainingState } from '@rxvision/train';
import { CHECKPOINT_FORMAT, hasCheckpoint as holdsCheckpoint, loadCheckpoint as loadFrom, readCheckpointMeta, saveCheckpoint as saveTo } from '@rxvision/train/node';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { CliError } from './cli-error.js';
import { storedExperiment } from './experiment-flags.js';

export { CHECKPOINT_FORMAT };

/**
 * How the run was started: a resumed run uses this, not the command line, so it stays the same run.
 * The experiment is stored whole, its paths absolute, the flags already laid over it; the
 * checkpoint (`@rxvision/train/node`) keeps it as its `meta`.
 */
export interface RunConfig {
  readonly experiment: Experiment;
  /** The experiment file, or "the tutorial". */
  readonly source: string;
}

/** Format 1 (rxvision before experiment files): the tutorial with these settings. */
interface TutorialConfig {
  readonly data: string;
  readonly schedule: Schedule;
  readonly batchSize: number;
  readonly seed: number;
  readonly outputRelu?: boolean;
  readonly limit?: number;
}

const checkpointOf = (run: string) => runFile(run, 'checkpoint');

/** Writes the run's checkpoint (see `saveCheckpoint` of `@rxvision/train/node`), in the run folder `claim` holds. */
export function saveCheckpoint(claim: FolderClaim, config: RunConfig, state: TrainingState, model: LayersModel): Promise<void> {
  return saveTo(checkpointOf(claim.folder), state, model, { meta: config, claim });
}

/** Reads the run's checkpoint into `model`; the caller disposes `resume.optimizerWeights` (and `resume.best`) once restored. */
export async function loadCheckpoint(run: string, model: LayersModel): Promise<{ readonly config: RunConfig; readonly resume: ResumeFrom }> {
  const { meta, format, file, resume } = await loadFrom(checkpointOf(run), model);
  return { config: runConfig(meta, format, file), resume };
}

/** How a run was started, from its checkpoint: read before building the model it describes. */
export async function readCheckpointConfig(run: string): Promise<RunConfig> {
  const { meta, format, file } = await readCheckpointMeta(checkpointOf(run));
  return runConfig(meta, format, file);
}

/** Whether a run can be resumed: it has a checkpoint, or the `.old` one a crash left behind. */
export function hasCheckpoint(run: string): Promise<boolean> {
  return holdsCheckpoint(checkpointOf(run));
}

/** The one line for a run without a checkpoint. */
export const NO_CHECKPOINT = (run: string) => `${resolve(run)}: no checkpoint to resume from (expected ${join(checkpointOf(run), 'checkpoint.json')})`;

/** The run's config as each format stored it: the experiment since format 2, the tutorial's settings in format 1. */
function runConfig(meta: unknown, format: number, file: string): RunConfig {
  const config = (meta ?? {}) as Record<string, unknown>;
  const refuse = (problem: string) => new CliError(`${file}: not an rxvision checkpoint (${problem})`);
  if (format >= 2) {
    if (typeof config.experiment !== 'object' || config.experiment === null || Array.isArray(config.experiment)) throw refuse('"config.experiment" must be an object');
    return { experiment: storedExperiment(config.experiment, `${file}: config.experiment`), source: String(config.source) };
  }
  if (typeof config.data !== 'string') throw refuse('"config.data" must be a folder');
  if (!Array.isArray(config.schedule) || config.schedule.length === 0) throw refuse('"config.schedule" must be a list of phases');
  for (const key of ['batchSize', 'seed'] as const) if (!Number.isSafeInteger(config[key])) throw refuse(`"config.${key}" must be an integer`);
  const { data, schedule, batchSize, seed, outputRelu, limit } = config as unknown as TutorialConfig;
  const experiment = { dataset: { type: 'cifar10', dataDir: data }, validation: 0.1, seed, batchSize, schedule, model: { type: 'tutorial', outputRelu: outputRelu ?? true }, ...(limit !== undefined && { limit }) };
  return { experiment: storedExperiment(experiment, file), source: 'the tutorial' };
}
