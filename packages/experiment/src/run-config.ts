import type { Schedule } from '@rxvision/train';
import { CheckpointError, readCheckpointMeta } from '@rxvision/train/node';
import type { Experiment } from './experiment.js';
import { parseExperiment } from './parse-experiment.js';

/**
 * How a run was started, kept in each of its checkpoints: a resumed run uses this, not whatever it
 * is resumed with, so it stays the same run. The experiment is stored whole, defaults filled in and
 * paths absolute.
 */
export interface RunConfig {
  readonly experiment: Experiment;
  /** The experiment file, or "the tutorial": names the experiment in messages and the summary. */
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

/** The run config of the checkpoint in `folder` (a run's `checkpoint` folder), in whichever format wrote it. */
export async function readRunConfig(folder: string): Promise<RunConfig> {
  const { meta, format, file } = await readCheckpointMeta(folder);
  return runConfigOf(meta, format, file);
}

/** The run's config as each format stored it: the experiment since format 2, the tutorial's settings in format 1. */
export function runConfigOf(meta: unknown, format: number, file: string): RunConfig {
  const config = (meta ?? {}) as Record<string, unknown>;
  const refuse = (problem: string) => new CheckpointError(`${file}: not an rxvision checkpoint (${problem})`);
  if (format >= 2) {
    if (typeof config.experiment !== 'object' || config.experiment === null || Array.isArray(config.experiment))
      throw refuse('"config.experiment" must be an object');
    return { experiment: parseExperiment(config.experiment, `${file}: config.experiment`), source: String(config.source) };
  }
  if (typeof config.data !== 'string') throw refuse('"config.data" must be a folder');
  if (!Array.isArray(config.schedule) || config.schedule.length === 0) throw refuse('"config.schedule" must be a list of phases');
  for (const key of ['batchSize', 'seed'] as const)
    if (!Number.isSafeInteger(config[key])) throw refuse(`"config.${key}" must be an integer`);
  const { data, schedule, batchSize, seed, outputRelu, limit } = config as unknown as TutorialConfig;
  const experiment = {
    dataset: { type: 'cifar10', dataDir: data },
    validation: 0.1,
    seed,
    batchSize,
    schedule,
    model: { type: 'tutorial', outputRelu: outputRelu ?? true },
    ...(limit !== undefined && { limit }),
  };
  return { experiment: parseExperiment(experiment, file), source: 'the tutorial' };
}
