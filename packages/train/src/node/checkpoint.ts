// Over 250 lines: a checkpoint's format written and read in one place, every field checked before use.
import { randomBytes } from 'node:crypto';
import { access, mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { asOutOfSpace, type FolderClaim, readRegularFile, syncFolder, writeFileDurably } from '@rxvision/folder';
import { checksum, checksumProblem, type FileChecksum, fileSystemLoader, fileSystemSaver, weightBytes } from '@rxvision/model/node';
import { dispose, io, type NamedTensorMap, type Tensor } from '@tensorflow/tfjs-core';
import { type LayersModel, loadLayersModel } from '@tensorflow/tfjs-layers';
import { RxvisionError } from '@rxvision/errors';
import type { ResumeFrom, TrainingState } from '../training-state.js';

/**
 * Bumped whenever the checkpoint layout changes; older readers refuse newer checkpoints. 3: keepBest's
 * weights; 4: lookahead's average; 5: Adam's bias-correction powers in the optimizer's state, and
 * each .bin file's size and SHA-256; 6: the moving average of the weights (ema).
 */
export const CHECKPOINT_FORMAT = 6;

/** A checkpoint that cannot be read as one; the message names the file. */
export class CheckpointError extends RxvisionError {
  override readonly name = 'CheckpointError';
}

interface CheckpointFile {
  readonly format: number;
  /** The caller's own record of the run (how it was started), stored as given. */
  readonly config: unknown;
  readonly position: TrainingState['position'];
  readonly history: TrainingState['history'];
  readonly optimizer: io.WeightsManifestEntry[];
  /** keepBest's best epoch so far and its weights' layout in best.bin (format 3). */
  readonly best?: { readonly epoch: number; readonly weights: io.WeightsManifestEntry[] };
  /** Lookahead's average of the weights: its layout in lookahead.bin (format 4). */
  readonly lookahead?: { readonly weights: io.WeightsManifestEntry[] };
  /** The moving average of the weights: its layout in ema.bin (format 6). */
  readonly ema?: { readonly weights: io.WeightsManifestEntry[] };
  /** Each .bin file's size and SHA-256 as written (format 5), checked before it is read. */
  readonly checksums?: Readonly<Record<string, FileChecksum>>;
}

/** A checkpoint folder's files: its record (position, history, settings, checksums) and the optimizer's state. */
const CHECKPOINT_JSON = 'checkpoint.json';
const OPTIMIZER_BIN = 'optimizer.bin';
/** Larger than any checkpoint.json rxvision writes (its history included); a larger one is not read. */
const MAX_CHECKPOINT_JSON_BYTES = 64 << 20;

export interface SaveCheckpointOptions {
  /** Anything the caller needs to start the run again (its experiment): stored as `config`, returned by `loadCheckpoint`. */
  readonly meta?: unknown;
  /**
   * The claim on the folder holding the checkpoint (`@rxvision/folder`): its temporaries, and its
   * check before the renames, so that a process that lost the folder writes nothing.
   */
  readonly claim?: FolderClaim;
}

/**
 * Writes a checkpoint into `folder`: the model's weights, the optimizer's state, the position in
 * the schedule, the history, keepBest's weights and the caller's `meta`. Everything goes into a
 * temporary folder first, which then replaces the old checkpoint by two renames; a crash at any
 * point leaves a complete checkpoint (`folder` or `folder.old`), a failure (a full disk) no
 * temporary, and an OutOfSpaceError that says how much was needed.
 *
 * ```ts
 * fit(model, { ...options, checkpoint: (state) => saveCheckpoint('runs/r1/checkpoint', state, model, { meta: experiment }) });
 * ```
 */
export async function saveCheckpoint(
  folder: string,
  state: TrainingState,
  model: LayersModel,
  options: SaveCheckpointOptions = {},
): Promise<void> {
  const target = resolve(folder);
  const { claim } = options;
  const temporary = claim ? claim.temporaryPath(target) : `${target}.${randomBytes(8).toString('hex')}.tmp`;
  const check = async () => claim?.check();
  let bytes = model.countParams() * 4;
  try {
    await check();
    await mkdir(temporary, { recursive: true });
    await model.save(fileSystemSaver(join(temporary, 'model')));
    // getWeights() makes new tensors (the iteration count at least): ours to dispose.
    const optimizerWeights = await state.optimizer.getWeights();
    const { data, specs } = await io
      .encodeWeights(optimizerWeights)
      .finally(() => dispose(optimizerWeights.map((weight) => weight.tensor)));
    const optimizer = new Uint8Array(io.concatenateArrayBuffers(Array.isArray(data) ? data : [data]));
    bytes += optimizer.byteLength;
    const checksums: Record<string, FileChecksum> = { [OPTIMIZER_BIN]: checksum(optimizer) };
    await writeFileDurably(join(temporary, OPTIMIZER_BIN), optimizer);
    // Named by position: they go back in the order they were given.
    const writeTensors = async (name: string, tensors: readonly Tensor[]) => {
      const encoded = await io.encodeWeights(tensors.map((tensor, i) => ({ name: `weight${i}`, tensor })));
      const weights = new Uint8Array(io.concatenateArrayBuffers(Array.isArray(encoded.data) ? encoded.data : [encoded.data]));
      bytes += weights.byteLength;
      checksums[name] = checksum(weights);
      await writeFileDurably(join(temporary, name), weights);
      return encoded.specs;
    };
    const best: CheckpointFile['best'] = state.best && {
      epoch: state.best.epoch,
      weights: await writeTensors('best.bin', state.best.weights),
    };
    const lookahead: CheckpointFile['lookahead'] = state.lookahead && { weights: await writeTensors('lookahead.bin', state.lookahead) };
    const ema: CheckpointFile['ema'] = state.ema && { weights: await writeTensors('ema.bin', state.ema) };
    const file: CheckpointFile = {
      format: CHECKPOINT_FORMAT,
      config: options.meta ?? null,
      position: state.position,
      history: state.history,
      optimizer: specs,
      ...(best && { best }),
      ...(lookahead && { lookahead }),
      ...(ema && { ema }),
      checksums,
    };
    await writeFileDurably(join(temporary, CHECKPOINT_JSON), `${JSON.stringify(file, null, 2)}\n`);
    await syncFolder(temporary);
    await check();
    await rm(`${target}.old`, { recursive: true, force: true });
    if (await exists(target)) await rename(target, `${target}.old`);
    await rename(temporary, target);
    await syncFolder(dirname(target));
    await rm(`${target}.old`, { recursive: true, force: true });
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw await asOutOfSpace(error, { folder: dirname(target), what: 'a checkpoint', neededBytes: bytes });
  }
}

/** What a checkpoint gives back: the caller's `meta` and where `fit` resumes from. */
export interface LoadedCheckpoint {
  readonly meta: unknown;
  /** The format it was written in (1 and 2 hold what this reader's predecessors wrote). */
  readonly format: number;
  /** The checkpoint.json it was read from (the `.old` one when a crash left only that), to name in errors. */
  readonly file: string;
  readonly resume: ResumeFrom;
}

/**
 * Reads the checkpoint in `folder` (or the `.old` one a crash left behind) into `model`, which must
 * have the same architecture, and returns where `fit` resumes from, mid-epoch included, with the
 * same events as an uninterrupted run. The caller disposes `resume.optimizerWeights` (and
 * `resume.best`'s, `resume.lookahead`'s and `resume.ema`'s weights) once `fit` has started.
 *
 * ```ts
 * const { resume } = await loadCheckpoint('runs/r1/checkpoint', model);
 * fit(model, { ...options, resume });
 * ```
 */
export async function loadCheckpoint(folder: string, model: LayersModel): Promise<LoadedCheckpoint> {
  const { found, file } = await readCheckpointFile(folder);
  const saved = await loadLayersModel(fileSystemLoader(join(found, 'model'))).catch((error: Error) => {
    throw new CheckpointError(`${join(found, 'model')}: the checkpoint's model cannot be loaded (${error.message})`);
  });
  try {
    const expected = weightsByPlace(model);
    const inCheckpoint = weightsByPlace(saved);
    const present = new Map(inCheckpoint.map(({ place, weight }) => [place, weight]));
    const shapes = (weights: readonly { weight: { shape: readonly (number | null)[] } }[]) =>
      weights.map(({ weight }) => weight.shape.join('x')).join(', ');
    const differs =
      expected.length !== present.size ||
      expected.some(({ place, weight }) => present.get(place)?.shape.join('x') !== weight.shape.join('x'));
    if (differs)
      throw new CheckpointError(
        `${found}: the checkpoint is from a different model (weights ${shapes(inCheckpoint)}; this model has ${shapes(expected)})`,
      );
    for (const { place, weight } of expected) weight.write(present.get(place)!.read());
  } finally {
    saved.dispose();
  }
  const named = await readWeights(found, OPTIMIZER_BIN, file.optimizer, file.checksums);
  const optimizerWeights = file.optimizer.map((spec) => ({ name: spec.name, tensor: named[spec.name]! }));
  const best = file.best && { epoch: file.best.epoch, weights: await readTensors(found, 'best.bin', file.best.weights, file.checksums) };
  const lookahead = file.lookahead && (await readTensors(found, 'lookahead.bin', file.lookahead.weights, file.checksums));
  const ema = file.ema && (await readTensors(found, 'ema.bin', file.ema.weights, file.checksums));
  return {
    meta: file.config,
    format: file.format,
    file: join(found, CHECKPOINT_JSON),
    resume: {
      position: file.position,
      history: file.history,
      optimizerWeights,
      ...(best && { best }),
      ...(lookahead && { lookahead }),
      ...(ema && { ema }),
    },
  };
}

/**
 * Each weight of `model` by its place: its layer's position and its own name in the layer
 * ("3/kernel"). Not `model.weights`' order: that puts frozen weights (airbench's whitening kernel)
 * last, and a saved model.json does not record which weights were frozen, so a loaded model lists
 * them elsewhere. Not the full names either: a fresh process numbers its layers anew.
 */
function weightsByPlace(model: LayersModel) {
  return model.layers.flatMap((layer, position) =>
    layer.weights.map((weight) => {
      const name = weight.originalName;
      return { place: `${position}/${name.startsWith(`${layer.name}/`) ? name.slice(layer.name.length + 1) : name}`, weight };
    }),
  );
}

/** The caller's `meta` and the format, read before building the model it describes. */
export async function readCheckpointMeta(folder: string): Promise<Omit<LoadedCheckpoint, 'resume'>> {
  const { found, file } = await readCheckpointFile(folder);
  return { meta: file.config, format: file.format, file: join(found, CHECKPOINT_JSON) };
}

/** Whether `folder` holds a checkpoint (or the `.old` one a crash left behind). */
export async function hasCheckpoint(folder: string): Promise<boolean> {
  return (await whereCheckpoint(folder)) !== undefined;
}

type Checksums = CheckpointFile['checksums'];

async function readTensors(folder: string, name: string, specs: io.WeightsManifestEntry[], checksums: Checksums): Promise<Tensor[]> {
  const named = await readWeights(folder, name, specs, checksums);
  return specs.map((spec) => named[spec.name]!);
}

/** A .bin file of the checkpoint: a regular file of the size its specs imply and, from format 5, of its recorded SHA-256. */
async function readWeights(folder: string, name: string, specs: io.WeightsManifestEntry[], checksums: Checksums): Promise<NamedTensorMap> {
  const path = join(folder, name);
  const expected = weightBytes(specs);
  const bytes = await readRegularFile(path, Number.isFinite(expected) ? expected + 1 : 0).catch((error: Error) => {
    throw new CheckpointError(error.message.startsWith(path) ? error.message : `${path}: ${error.message}`);
  });
  if (bytes.length !== expected)
    throw new CheckpointError(`${path}: damaged: it holds ${bytes.length} bytes, the checkpoint lists ${expected}`);
  const recorded = checksums?.[name];
  const problem = recorded ? checksumProblem(path, bytes, recorded) : undefined;
  if (problem) throw new CheckpointError(problem);
  return io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, specs);
}

async function readCheckpointFile(folder: string): Promise<{ found: string; file: CheckpointFile }> {
  const found = await whereCheckpoint(folder);
  if (found === undefined)
    throw new CheckpointError(
      `${dirname(resolve(folder))}: no checkpoint to resume from (expected ${join(resolve(folder), CHECKPOINT_JSON)})`,
    );
  const path = join(found, CHECKPOINT_JSON);
  let file: unknown;
  try {
    file = JSON.parse((await readRegularFile(path, MAX_CHECKPOINT_JSON_BYTES)).toString('utf8'));
  } catch (error) {
    throw new CheckpointError(`${path}: unreadable (${(error as Error).message})`);
  }
  const format = (file as Partial<CheckpointFile> | null)?.format;
  if (typeof format === 'number' && format > CHECKPOINT_FORMAT)
    throw new CheckpointError(
      `${path}: written in checkpoint format ${format}, newer than this rxvision reads (${CHECKPOINT_FORMAT}); upgrade rxvision`,
    );
  const problem = checkpointProblem(file);
  if (problem) throw new CheckpointError(`${path}: not an rxvision checkpoint (${problem})`);
  return { found, file: file as CheckpointFile };
}

/** What is wrong with a parsed checkpoint.json, or undefined: checked before any field is used. */
function checkpointProblem(file: unknown): string | undefined {
  if (!isRecord(file)) return 'expected a JSON object';
  const { format, config, position, history, optimizer, best, lookahead, ema, checksums } = file;
  if (typeof format !== 'number') return '"format" must be a number';
  if (config !== null && !isRecord(config)) return '"config" must be an object'; // null: saved without meta
  if (!isRecord(position) || !Number.isSafeInteger(position.epoch) || !Number.isSafeInteger(position.step))
    return '"position" must hold an integer epoch and step';
  if ((position.epoch as number) < 1 || (position.step as number) < 0)
    return `"position" must be at epoch 1 or later, step 0 or later (epoch ${position.epoch}, step ${position.step})`;
  if (!Array.isArray(history)) return '"history" must be a list';
  // The history is the completed epochs, numbered from 1, with finite figures (null where not measured).
  if (history.length !== (position.epoch as number) - 1)
    return `"history" must hold the ${(position.epoch as number) - 1} epochs before epoch ${position.epoch}, it holds ${history.length}`;
  const badRecord = history.findIndex(
    (record, i) =>
      !isRecord(record) ||
      record.epoch !== i + 1 ||
      Object.values(record).some((value) => typeof value === 'number' && !Number.isFinite(value)),
  );
  if (badRecord >= 0) return `"history" record ${badRecord + 1} must be epoch ${badRecord + 1} with finite figures`;
  const isWeightSpec = (spec: unknown): boolean =>
    isRecord(spec) &&
    typeof spec.name === 'string' &&
    typeof spec.dtype === 'string' &&
    Array.isArray(spec.shape) &&
    spec.shape.every(Number.isSafeInteger);
  if (!Array.isArray(optimizer) || !optimizer.every(isWeightSpec))
    return '"optimizer" must list the optimizer\'s weights (name, shape, dtype)';
  if (
    best !== undefined &&
    !(isRecord(best) && Number.isSafeInteger(best.epoch) && Array.isArray(best.weights) && best.weights.every(isWeightSpec))
  )
    return '"best" must hold the best epoch and its weights (name, shape, dtype)';
  if (best !== undefined && !((best.epoch as number) >= 1 && (best.epoch as number) < (position.epoch as number)))
    return `"best" must be an epoch before ${position.epoch}, got ${best.epoch}`;
  for (const [name, average] of Object.entries({ lookahead, ema }))
    if (average !== undefined && !(isRecord(average) && Array.isArray(average.weights) && average.weights.every(isWeightSpec)))
      return `"${name}" must list the average's weights (name, shape, dtype)`;
  const isChecksum = (entry: unknown) =>
    isRecord(entry) && Number.isSafeInteger(entry.bytes) && typeof entry.sha256 === 'string' && /^[0-9a-f]{64}$/.test(entry.sha256);
  if (checksums !== undefined && !(isRecord(checksums) && Object.values(checksums).every(isChecksum)))
    return '"checksums" must give each file\'s bytes and SHA-256';
  if (format >= 5 && checksums === undefined) return '"checksums" is missing (format 5 records them)';
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The checkpoint folder (or the `.old` one a crash left behind), or undefined. */
async function whereCheckpoint(folder: string): Promise<string | undefined> {
  const base = resolve(folder);
  if (await exists(join(base, CHECKPOINT_JSON))) return base;
  if (await exists(join(`${base}.old`, CHECKPOINT_JSON))) return `${base}.old`;
  return undefined;
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );
