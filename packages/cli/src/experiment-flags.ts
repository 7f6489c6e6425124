import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  absoluteDataset,
  absoluteModel,
  type Experiment,
  type ExperimentInput,
  parseExperiment,
  parseJsonText,
} from '@rxvision/experiment';
import { COMPUTE_PRECISIONS } from '@rxvision/backend/node';
import { parseSchedule, type Schedule, TUTORIAL_SCHEDULE } from '@rxvision/train';
import { CliError } from './cli-error.js';
import { integer, positiveInteger } from './integer-flag.js';

/** The flags of `train` that describe the experiment (the rest say where and how it runs). */
export interface ExperimentFlags {
  readonly config?: string;
  readonly data: string;
  readonly schedule: string;
  readonly batchSize: string;
  readonly seed: string;
  readonly limit?: string;
  readonly precision?: string;
  readonly outputRelu: boolean;
}

/** The experiment to run and the name errors give it. Every path in it is absolute. */
export interface ExperimentChoice {
  readonly experiment: Experiment;
  readonly source: string;
}

const SCHEDULES: Record<string, Schedule> = { tutorial: TUTORIAL_SCHEDULE, quick: [{ epochs: 2, learningRate: 0.05 }] };
/** A tenth of --limit validates: below 10 images that tenth would be empty and every metric NaN. */
const MIN_LIMIT = 10;

/**
 * The experiment of a `train` command line: the file of `--config` with the flags the user gave
 * laid over it (`given` says which were typed, not defaulted), or, without a file, the CIFAR-10
 * tutorial from the flags and their defaults.
 */
export async function experimentFromFlags(
  flags: ExperimentFlags,
  given: (flag: keyof ExperimentFlags) => boolean,
): Promise<ExperimentChoice> {
  const file = flags.config === undefined ? undefined : resolve(flags.config);
  const source = file ?? 'the tutorial';
  const base: Record<string, unknown> = file ? await readExperimentFile(file) : tutorialExperiment();
  const override = (flag: keyof ExperimentFlags) => file === undefined || given(flag);
  const fields: Record<string, unknown> = { ...base };
  if (override('seed')) fields.seed = integer(flags.seed, '--seed');
  if (override('batchSize')) fields.batchSize = positiveInteger(flags.batchSize, '--batch-size');
  if (override('schedule')) fields.schedule = SCHEDULES[flags.schedule] ?? scheduleFlag(flags.schedule);
  if (flags.precision !== undefined) {
    if (!(COMPUTE_PRECISIONS as readonly string[]).includes(flags.precision))
      throw new CliError(`--precision must be ${COMPUTE_PRECISIONS.join(' or ')}, got "${flags.precision}"`);
    fields.precision = flags.precision;
  }
  if (flags.limit !== undefined) {
    const limit = integer(flags.limit, '--limit');
    if (limit < MIN_LIMIT)
      throw new CliError(`--limit must be at least ${MIN_LIMIT} (a tenth is held out for validation), got "${flags.limit}"`);
    Object.assign(fields, { limit, validation: 0.1 });
  }
  const dataset = { ...(base.dataset as Record<string, unknown>) };
  if (override('data')) {
    if (dataset.type === 'arrow') throw new CliError(`--data does not apply to ${source}: its dataset names its Arrow files`);
    dataset.dataDir = resolve(flags.data);
  }
  fields.dataset = absoluteDataset(dataset, file ? dirname(file) : process.cwd());
  if (typeof base.model === 'object' && base.model !== null)
    fields.model = absoluteModel(base.model as Record<string, unknown>, file ? dirname(file) : process.cwd());
  if (override('outputRelu') && !flags.outputRelu) {
    const model = base.model as { type?: unknown } | undefined;
    if (model?.type !== 'tutorial')
      throw new CliError(`--no-output-relu applies to the tutorial model only, and ${source} trains a ${String(model?.type)}`);
    fields.model = { ...model, outputRelu: false };
  }
  return { experiment: parseExperiment(fields, source), source };
}

async function readExperimentFile(file: string): Promise<Record<string, unknown>> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new CliError(`--config ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  });
  // Validated as the file says first, so an error names what the file holds, not an override.
  const value = parseJsonText(text, file);
  parseExperiment(value, file);
  return value as Record<string, unknown>;
}

function tutorialExperiment(): ExperimentInput & Record<string, unknown> {
  return {
    description: 'The classic CIFAR-10 feed-forward tutorial (rxvision train without --config).',
    dataset: { type: 'cifar10' },
    validation: 0.1,
    model: { type: 'tutorial', outputRelu: true },
    schedule: TUTORIAL_SCHEDULE.map((phase) => ({ ...phase })),
  };
}

function scheduleFlag(text: string): Schedule {
  try {
    return parseSchedule(text);
  } catch (error) {
    throw new CliError(`--schedule: ${(error as Error).message}`);
  }
}
