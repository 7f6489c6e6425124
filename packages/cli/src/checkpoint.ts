import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { asOutOfSpace, type FolderClaim } from '@rxvision/folder';
import { RUN_FILES } from '@rxvision/run-folder';
import { fileSystemLoader, fileSystemSaver } from '@rxvision/model/node';
import type { Experiment } from '@rxvision/experiment';
import type { ResumeFrom, Schedule, TrainingState } from '@rxvision/train';
import { dispose, io, type Tensor } from '@tensorflow/tfjs-core';
import { type LayersModel, loadLayersModel } from '@tensorflow/tfjs-layers';
import { CliError } from './cli-error.js';
import { pathExists } from './path-exists.js';

import { storedExperiment } from './experiment-flags.js';

/** Bumped whenever the checkpoint layout changes; older readers refuse newer checkpoints. 3: keepBest's weights. */
export const CHECKPOINT_FORMAT = 3;

/**
 * How the run was started: a resumed run uses this, not the command line, so it stays the same run.
 * The experiment is stored whole, its paths absolute, the flags already laid over it.
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

interface CheckpointFile {
  readonly format: number;
  readonly config: RunConfig | TutorialConfig;
  readonly position: TrainingState['position'];
  readonly history: TrainingState['history'];
  readonly optimizer: io.WeightsManifestEntry[];
  /** keepBest's best epoch so far and its weights' layout in best.bin (format 3). */
  readonly best?: { readonly epoch: number; readonly weights: io.WeightsManifestEntry[] };
}

const NAME = RUN_FILES.checkpoint;
/** Bytes per value of the dtypes an optimizer saves, as `io.encodeWeights` writes them. */
const BYTES_PER_VALUE: Partial<Record<string, number>> = { float32: 4, int32: 4, bool: 1 };

/**
 * Writes model weights, optimizer state, schedule position and history into `<run>/checkpoint`, in
 * the run folder `claim` holds. Everything goes into the claim's temporary folder first, which then
 * replaces the old checkpoint by two renames, the claim checked before them; a crash at any point
 * leaves a complete checkpoint (`checkpoint` or `checkpoint.old`), a failure (a full disk) no
 * temporary.
 */
export async function saveCheckpoint(claim: FolderClaim, config: RunConfig, state: TrainingState, model: LayersModel): Promise<void> {
  const folder = join(claim.folder, NAME);
  const temporary = claim.temporaryPath(folder);
  let bytes = model.countParams() * 4;
  try {
    await claim.check();
    await mkdir(temporary, { recursive: true });
    await model.save(fileSystemSaver(join(temporary, 'model')));
    // getWeights() makes new tensors (the iteration count at least): ours to dispose.
    const optimizerWeights = await state.optimizer.getWeights();
    const { data, specs } = await io.encodeWeights(optimizerWeights).finally(() => dispose(optimizerWeights.map((weight) => weight.tensor)));
    const optimizer = new Uint8Array(io.concatenateArrayBuffers(Array.isArray(data) ? data : [data]));
    bytes += optimizer.byteLength;
    await writeFile(join(temporary, 'optimizer.bin'), optimizer);
    let best: CheckpointFile['best'];
    if (state.best) {
      // Named by position: they go back into the model in the order getWeights gave them.
      const encoded = await io.encodeWeights(state.best.weights.map((tensor, i) => ({ name: `weight${i}`, tensor })));
      const weights = new Uint8Array(io.concatenateArrayBuffers(Array.isArray(encoded.data) ? encoded.data : [encoded.data]));
      bytes += weights.byteLength;
      await writeFile(join(temporary, 'best.bin'), weights);
      best = { epoch: state.best.epoch, weights: encoded.specs };
    }
    const file: CheckpointFile = { format: CHECKPOINT_FORMAT, config, position: state.position, history: state.history, optimizer: specs, ...(best && { best }) };
    await writeFile(join(temporary, 'checkpoint.json'), `${JSON.stringify(file, null, 2)}\n`);
    await claim.check();
    await rm(`${folder}.old`, { recursive: true, force: true });
    if (await pathExists(folder)) await rename(folder, `${folder}.old`);
    await rename(temporary, folder);
    await rm(`${folder}.old`, { recursive: true, force: true });
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw await asOutOfSpace(error, { folder: claim.folder, what: 'a checkpoint', neededBytes: bytes });
  }
}

export interface LoadedCheckpoint {
  readonly config: RunConfig;
  readonly resume: ResumeFrom;
}

/**
 * Reads `<run>/checkpoint` (or the `.old` one a crash left behind) into `model`, which must have
 * the same architecture; the caller disposes `resume.optimizerWeights` once restored.
 */
export async function loadCheckpoint(run: string, model: LayersModel): Promise<LoadedCheckpoint> {
  const { folder, file } = await readCheckpointFile(run);
  const saved = await loadLayersModel(fileSystemLoader(join(folder, 'model'))).catch((error: Error) => {
    throw new CliError(`${join(folder, 'model')}: the checkpoint's model cannot be loaded (${error.message})`);
  });
  try {
    const expected = model.weights.map((w) => `${w.shape.join('x')}`);
    const found = saved.weights.map((w) => `${w.shape.join('x')}`);
    if (expected.join() !== found.join()) {
      throw new CliError(`${folder}: the checkpoint is from a different model (weights ${found.join(', ')}; this model has ${expected.join(', ')})`);
    }
    model.setWeights(saved.getWeights());
  } finally {
    saved.dispose();
  }
  const optimizerPath = join(folder, 'optimizer.bin');
  const bytes = await readFile(optimizerPath);
  const expected = file.optimizer.reduce((sum, spec) => sum + spec.shape.reduce((n, d) => n * d, 1) * (BYTES_PER_VALUE[spec.dtype] ?? NaN), 0);
  if (bytes.length !== expected) throw new CliError(`${optimizerPath}: damaged: it holds ${bytes.length} bytes, the checkpoint lists ${expected}`);
  const named = io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), file.optimizer);
  const optimizerWeights = Object.entries(named).map(([name, tensor]) => ({ name, tensor }));
  const best = file.best && (await readBest(folder, file.best));
  return { config: runConfig(file, folder), resume: { position: file.position, history: file.history, optimizerWeights, ...(best && { best }) } };
}

/** keepBest's weights from best.bin, in the model's order (the order they were written in). */
async function readBest(folder: string, best: NonNullable<CheckpointFile['best']>): Promise<{ epoch: number; weights: Tensor[] }> {
  const path = join(folder, 'best.bin');
  const bytes = await readFile(path);
  const expected = best.weights.reduce((sum, spec) => sum + spec.shape.reduce((n, d) => n * d, 1) * (BYTES_PER_VALUE[spec.dtype] ?? NaN), 0);
  if (bytes.length !== expected) throw new CliError(`${path}: damaged: it holds ${bytes.length} bytes, the checkpoint lists ${expected}`);
  const named = io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), best.weights);
  return { epoch: best.epoch, weights: best.weights.map((spec) => named[spec.name]!) };
}

/** How a run was started, from its checkpoint: read before building the model it describes. */
export async function readCheckpointConfig(run: string): Promise<RunConfig> {
  const { folder, file } = await readCheckpointFile(run);
  return runConfig(file, folder);
}

function runConfig(file: CheckpointFile, folder: string): RunConfig {
  const source = join(folder, 'checkpoint.json');
  if (file.format >= 2) {
    const { experiment, source: from } = file.config as RunConfig;
    return { experiment: storedExperiment(experiment, `${source}: config.experiment`), source: from };
  }
  const { data, schedule, batchSize, seed, outputRelu, limit } = file.config as TutorialConfig;
  const experiment = { dataset: { type: 'cifar10', dataDir: data }, validation: 0.1, seed, batchSize, schedule, model: { type: 'tutorial', outputRelu: outputRelu ?? true }, ...(limit !== undefined && { limit }) };
  return { experiment: storedExperiment(experiment, source), source: 'the tutorial' };
}

async function readCheckpointFile(run: string): Promise<{ folder: string; file: CheckpointFile }> {
  const folder = await findCheckpoint(run);
  const path = join(folder, 'checkpoint.json');
  let file: unknown;
  try {
    file = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new CliError(`${path}: unreadable (${(error as Error).message})`);
  }
  const format = (file as Partial<CheckpointFile> | null)?.format;
  if (typeof format === 'number' && format > CHECKPOINT_FORMAT) {
    throw new CliError(`${path}: written in checkpoint format ${format}, newer than this rxvision reads (${CHECKPOINT_FORMAT}); upgrade rxvision`);
  }
  const problem = checkpointProblem(file);
  if (problem) throw new CliError(`${path}: not an rxvision checkpoint (${problem})`);
  return { folder, file: file as CheckpointFile };
}

/** What is wrong with a parsed checkpoint.json, or undefined: checked before any field is used. */
function checkpointProblem(file: unknown): string | undefined {
  if (typeof file !== 'object' || file === null || Array.isArray(file)) return 'expected a JSON object';
  const { format, config, position, history, optimizer } = file as Record<string, unknown>;
  if (typeof format !== 'number') return '"format" must be a number';
  if (!isRecord(config)) return '"config" must be an object';
  if (format >= 2) {
    if (!isRecord(config.experiment)) return '"config.experiment" must be an object';
  } else {
    if (typeof config.data !== 'string') return '"config.data" must be a folder';
    if (!Array.isArray(config.schedule) || config.schedule.length === 0) return '"config.schedule" must be a list of phases';
    for (const key of ['batchSize', 'seed'] as const) if (!Number.isSafeInteger(config[key])) return `"config.${key}" must be an integer`;
  }
  if (!isRecord(position) || !Number.isSafeInteger(position.epoch) || !Number.isSafeInteger(position.step)) return '"position" must hold an integer epoch and step';
  if (!Array.isArray(history)) return '"history" must be a list';
  const isWeightSpec = (spec: unknown): boolean =>
    isRecord(spec) && typeof spec.name === 'string' && typeof spec.dtype === 'string' && Array.isArray(spec.shape) && spec.shape.every(Number.isSafeInteger);
  if (!Array.isArray(optimizer) || !optimizer.every(isWeightSpec)) return '"optimizer" must list the optimizer\'s weights (name, shape, dtype)';
  const { best } = file as Record<string, unknown>;
  if (best !== undefined && !(isRecord(best) && Number.isSafeInteger(best.epoch) && Array.isArray(best.weights) && best.weights.every(isWeightSpec))) return '"best" must hold the best epoch and its weights (name, shape, dtype)';
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether a run can be resumed: it has a checkpoint, or the `.old` one a crash left behind. */
export async function hasCheckpoint(run: string): Promise<boolean> {
  return (await checkpointFolder(run)) !== undefined;
}

/** The checkpoint folder of a run (or the `.old` one a crash left behind); a clear error if none. */
async function findCheckpoint(run: string): Promise<string> {
  const folder = await checkpointFolder(run);
  if (folder === undefined) throw new CliError(NO_CHECKPOINT(run));
  return folder;
}

/** The one line for a run without a checkpoint. */
export const NO_CHECKPOINT = (run: string) => `${resolve(run)}: no checkpoint to resume from (expected ${join(resolve(run), NAME, 'checkpoint.json')})`;

async function checkpointFolder(run: string): Promise<string | undefined> {
  const base = join(resolve(run), NAME);
  if (await pathExists(join(base, 'checkpoint.json'))) return base;
  if (await pathExists(join(`${base}.old`, 'checkpoint.json'))) return `${base}.old`;
  return undefined;
}
