import { createHash, randomBytes } from 'node:crypto';
import { access, mkdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readRegularFile, syncFolder, writeFileDurably } from '@rxvision/folder';
import { io } from '@tensorflow/tfjs-core';

/** A saved model's files (the TensorFlow.js layers format): the one place their names are written. */
export const SAVED_MODEL_FILES = { topology: 'model.json', weights: 'weights.bin' } as const;
const { topology: MODEL_JSON, weights: WEIGHTS_BIN } = SAVED_MODEL_FILES;
/** Larger than any model.json rxvision writes; a larger one is not read. */
const MAX_MODEL_JSON_BYTES = 64 << 20;
/** Node's largest buffer: weights files beyond it cannot be read in one. */
const MAX_WEIGHTS_BYTES = 2 ** 31 - 1;
/** Bytes per value of the dtypes weights are stored in, as `io.encodeWeights` writes them. */
const BYTES_PER_VALUE: Partial<Record<string, number>> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** The bytes weights of these specs take, unquantized; NaN where a dtype is not one weights are stored in. */
export function weightBytes(specs: readonly io.WeightsManifestEntry[]): number {
  return specs.reduce((sum, spec) => sum + spec.shape.reduce((n, d) => n * d, 1) * (BYTES_PER_VALUE[spec.dtype] ?? NaN), 0);
}

/** A weights file's size and SHA-256, as model.json records them (rxvision's field; tfjs ignores it). */
export interface FileChecksum {
  readonly bytes: number;
  readonly sha256: string;
}

/** What `fileSystemSaver` adds to model.json: each weights file's checksum, by its name. */
export interface ChecksummedModelJson extends io.ModelJSON {
  readonly weightsChecksums?: Readonly<Record<string, FileChecksum>>;
}

export function checksum(data: Uint8Array): FileChecksum {
  return { bytes: data.byteLength, sha256: createHash('sha256').update(data).digest('hex') };
}

/** Where `data` does not match `expected`, the line that says so; undefined where it does. */
export function checksumProblem(path: string, data: Uint8Array, expected: FileChecksum): string | undefined {
  if (data.byteLength !== expected.bytes) return `${path}: damaged: it holds ${data.byteLength} bytes, ${expected.bytes} were written`;
  if (checksum(data).sha256 !== expected.sha256) return `${path}: damaged: its SHA-256 differs from the one recorded when it was written`;
  return undefined;
}

export interface FileSystemSaverOptions {
  /** Where each file is written before its rename (default `<file>.<random>.tmp`): a folder claim's temporaries. */
  readonly temporaryPath?: (path: string) => string;
  /** Runs before the files are renamed into place: a folder claim's check. */
  readonly beforeRename?: () => Promise<void>;
}

/**
 * Saves a model as `model.json` + `weights.bin` (the TensorFlow.js layers format) without
 * tfjs-node, model.json recording the weights' size and SHA-256. Both files are written under
 * temporary names, flushed to the disk, then renamed, so neither a crash nor a power loss leaves a
 * model.json that points at missing or partial weights.
 */
export function fileSystemSaver(folder: string, options: FileSystemSaverOptions = {}): io.IOHandler {
  const dir = resolve(folder);
  const temporaryPath = options.temporaryPath ?? ((path: string) => `${path}.${randomBytes(8).toString('hex')}.tmp`);
  return {
    async save(artifacts: io.ModelArtifacts): Promise<io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) throw new TypeError('binary model topologies are not supported');
      await mkdir(dir, { recursive: true });
      const weights = new Uint8Array(concatenate(artifacts.weightData));
      const modelJson: ChecksummedModelJson = {
        modelTopology: artifacts.modelTopology ?? {},
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
        weightsChecksums: { [WEIGHTS_BIN]: checksum(weights) },
        ...(artifacts.trainingConfig && { trainingConfig: artifacts.trainingConfig }),
        ...(artifacts.userDefinedMetadata && { userDefinedMetadata: artifacts.userDefinedMetadata }),
      };
      const [weightsPath, modelPath] = [join(dir, WEIGHTS_BIN), join(dir, MODEL_JSON)];
      const [weightsTemporary, modelTemporary] = [temporaryPath(weightsPath), temporaryPath(modelPath)];
      try {
        await writeFileDurably(weightsTemporary, weights);
        await writeFileDurably(modelTemporary, JSON.stringify(modelJson));
        await options.beforeRename?.();
        await rename(weightsTemporary, weightsPath);
        await rename(modelTemporary, modelPath);
        await syncFolder(dir);
      } catch (error) {
        await Promise.all([rm(weightsTemporary, { force: true }), rm(modelTemporary, { force: true })]);
        throw error;
      }
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } };
    },
  };
}

/**
 * Loads what `fileSystemSaver` (or tfjs-node's `file://`) wrote; pass it to `tf.loadLayersModel`.
 * Weights files must be plain names in the folder, regular files of the size their manifest
 * implies and, where model.json records one, of its SHA-256: anything else is one line naming the
 * file, before a weight is read.
 */
export function fileSystemLoader(folder: string): io.IOHandler {
  const dir = resolve(folder);
  return {
    async load(): Promise<io.ModelArtifacts> {
      const path = join(dir, MODEL_JSON);
      const text = await readRegularFile(path, MAX_MODEL_JSON_BYTES).catch((error: NodeJS.ErrnoException) => {
        throw new Error(`${dir}: not a saved model (${error.code === 'ENOENT' ? `no ${MODEL_JSON}` : error.message})`);
      });
      const json = JSON.parse(text.toString('utf8')) as ChecksummedModelJson;
      const manifest = json.weightsManifest ?? [];
      const buffers = await Promise.all(
        manifest.flatMap((group) => group.paths.map((name) => readWeightsFile(dir, name, json.weightsChecksums))),
      );
      const weightSpecs = manifest.flatMap((group) => group.weights);
      const weightData = concatenate(
        buffers.map((buffer) => buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer),
      );
      const expected = weightBytes(weightSpecs);
      if (!quantized(weightSpecs) && weightData.byteLength !== expected)
        throw new Error(`${dir}: damaged: its weights files hold ${weightData.byteLength} bytes, ${MODEL_JSON} lists ${expected}`);
      return {
        modelTopology: json.modelTopology,
        weightSpecs,
        weightData,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        ...(json.trainingConfig && { trainingConfig: json.trainingConfig }),
        ...(json.userDefinedMetadata && { userDefinedMetadata: json.userDefinedMetadata }),
      };
    },
  };
}

/** Quantized weights are stored in fewer bytes than their dtype says: their size is not checked here. */
const quantized = (specs: io.WeightsManifestEntry[]) => specs.some((entry) => entry.quantization !== undefined);

/** A weights file named in the manifest: a plain name inside the folder, read whole, checked against its checksum. */
async function readWeightsFile(dir: string, name: string, checksums: ChecksummedModelJson['weightsChecksums']): Promise<Buffer> {
  const plain = name.replace(/^\.\//, '');
  if (plain === '' || plain.includes('/') || plain.includes('\\') || plain === '..' || plain === '.')
    throw new Error(`${dir}: ${MODEL_JSON} names a weights file outside its folder (${JSON.stringify(name)})`);
  const path = join(dir, plain);
  const data = await readRegularFile(path, MAX_WEIGHTS_BYTES);
  const recorded = checksums?.[plain];
  const problem = recorded && checksumProblem(path, data, recorded);
  if (problem) throw new Error(problem);
  return data;
}

/** Removes a saved model's files (for tests and for replacing a run). */
export async function removeSavedModel(folder: string): Promise<void> {
  await Promise.all([MODEL_JSON, WEIGHTS_BIN].map((name) => rm(join(resolve(folder), name), { force: true })));
}

/** tfjs hands weights as one buffer or several; the file holds them back to back. */
function concatenate(data: io.WeightData | undefined): ArrayBuffer {
  if (data === undefined) return new ArrayBuffer(0);
  return io.concatenateArrayBuffers(Array.isArray(data) ? data : [data]);
}

/** Whether `folder` holds a saved model (its model.json; whether that loads is `fileSystemLoader`'s to say). */
export function hasSavedModel(folder: string): Promise<boolean> {
  return access(join(resolve(folder), MODEL_JSON)).then(
    () => true,
    () => false,
  );
}
