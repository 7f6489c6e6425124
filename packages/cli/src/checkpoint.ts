import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileSystemLoader, fileSystemSaver } from '@rxvision/model/node';
import type { ResumeFrom, Schedule, TrainingState } from '@rxvision/train';
import { dispose, io } from '@tensorflow/tfjs-core';
import { type LayersModel, loadLayersModel } from '@tensorflow/tfjs-layers';
import { CliError } from './cli-error.js';

/** Bumped whenever the checkpoint layout changes; older readers refuse newer checkpoints. */
export const CHECKPOINT_FORMAT = 1;

/** How the run was started: a resumed run uses these, not the command line, so it stays the same run. */
export interface RunConfig {
  readonly data: string;
  readonly schedule: Schedule;
  readonly batchSize: number;
  readonly seed: number;
  readonly outputRelu: boolean;
  readonly limit?: number;
}

interface CheckpointFile {
  readonly format: number;
  readonly config: RunConfig;
  readonly position: TrainingState['position'];
  readonly history: TrainingState['history'];
  readonly optimizer: io.WeightsManifestEntry[];
}

const NAME = 'checkpoint';

/**
 * Writes model weights, optimizer state, schedule position and history into `<run>/checkpoint`.
 * Everything goes into a temporary folder first, which then replaces the old checkpoint by two
 * renames; a crash at any point leaves a complete checkpoint (`checkpoint` or `checkpoint.old`).
 */
export async function saveCheckpoint(run: string, config: RunConfig, state: TrainingState, model: LayersModel): Promise<void> {
  const folder = join(resolve(run), NAME);
  const temporary = `${folder}.${process.pid}.tmp`;
  await rm(temporary, { recursive: true, force: true });
  await mkdir(temporary, { recursive: true });
  await model.save(fileSystemSaver(join(temporary, 'model')));
  // getWeights() makes new tensors (the iteration count at least): ours to dispose.
  const optimizerWeights = await state.optimizer.getWeights();
  const { data, specs } = await io.encodeWeights(optimizerWeights).finally(() => dispose(optimizerWeights.map((weight) => weight.tensor)));
  await writeFile(join(temporary, 'optimizer.bin'), new Uint8Array(io.concatenateArrayBuffers(Array.isArray(data) ? data : [data])));
  const file: CheckpointFile = { format: CHECKPOINT_FORMAT, config, position: state.position, history: state.history, optimizer: specs };
  await writeFile(join(temporary, 'checkpoint.json'), `${JSON.stringify(file, null, 2)}\n`);
  await rm(`${folder}.old`, { recursive: true, force: true });
  if (await exists(folder)) await rename(folder, `${folder}.old`);
  await rename(temporary, folder);
  await rm(`${folder}.old`, { recursive: true, force: true });
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
  const bytes = await readFile(join(folder, 'optimizer.bin'));
  const named = io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), file.optimizer);
  const optimizerWeights = Object.entries(named).map(([name, tensor]) => ({ name, tensor }));
  return { config: file.config, resume: { position: file.position, history: file.history, optimizerWeights } };
}

/** How a run was started, from its checkpoint: read before building the model it describes. */
export async function readCheckpointConfig(run: string): Promise<RunConfig> {
  const { config } = (await readCheckpointFile(run)).file;
  return { ...config, outputRelu: config.outputRelu ?? true };
}

async function readCheckpointFile(run: string): Promise<{ folder: string; file: CheckpointFile }> {
  const folder = await findCheckpoint(run);
  const path = join(folder, 'checkpoint.json');
  let file: CheckpointFile;
  try {
    file = JSON.parse(await readFile(path, 'utf8')) as CheckpointFile;
  } catch (error) {
    throw new CliError(`${path}: unreadable (${(error as Error).message})`);
  }
  if (typeof file.format !== 'number' || file.format > CHECKPOINT_FORMAT) {
    throw new CliError(`${path}: written in checkpoint format ${file.format}, newer than this rxvision reads (${CHECKPOINT_FORMAT}); upgrade rxvision`);
  }
  return { folder, file };
}

/** The checkpoint folder of a run (or the `.old` one a crash left behind); a clear error if none. */
async function findCheckpoint(run: string): Promise<string> {
  const base = join(resolve(run), NAME);
  if (await exists(join(base, 'checkpoint.json'))) return base;
  if (await exists(join(`${base}.old`, 'checkpoint.json'))) return `${base}.old`;
  throw new CliError(`${resolve(run)}: no checkpoint to resume from (expected ${join(base, 'checkpoint.json')})`);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
