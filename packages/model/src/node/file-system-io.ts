import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { io } from '@tensorflow/tfjs-core';

const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';

export interface FileSystemSaverOptions {
  /** Where each file is written before its rename (default `<file>.<random>.tmp`): a folder claim's temporaries. */
  readonly temporaryPath?: (path: string) => string;
  /** Runs before the files are renamed into place: a folder claim's check. */
  readonly beforeRename?: () => Promise<void>;
}

/**
 * Saves a model as `model.json` + `weights.bin` (the TensorFlow.js layers format) without
 * tfjs-node. Both files are written under temporary names, then renamed, so a crash never
 * leaves a model.json that points at missing or partial weights.
 */
export function fileSystemSaver(folder: string, options: FileSystemSaverOptions = {}): io.IOHandler {
  const dir = resolve(folder);
  const temporaryPath = options.temporaryPath ?? ((path: string) => `${path}.${randomBytes(8).toString('hex')}.tmp`);
  return {
    async save(artifacts: io.ModelArtifacts): Promise<io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) throw new TypeError('binary model topologies are not supported');
      await mkdir(dir, { recursive: true });
      const weights = concatenate(artifacts.weightData);
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.trainingConfig && { trainingConfig: artifacts.trainingConfig }),
        ...(artifacts.userDefinedMetadata && { userDefinedMetadata: artifacts.userDefinedMetadata }),
      };
      const [weightsPath, modelPath] = [join(dir, WEIGHTS_BIN), join(dir, MODEL_JSON)];
      const [weightsTemporary, modelTemporary] = [temporaryPath(weightsPath), temporaryPath(modelPath)];
      try {
        await writeFile(weightsTemporary, new Uint8Array(weights));
        await writeFile(modelTemporary, JSON.stringify(modelJson));
        await options.beforeRename?.();
        await rename(weightsTemporary, weightsPath);
        await rename(modelTemporary, modelPath);
      } catch (error) {
        await Promise.all([rm(weightsTemporary, { force: true }), rm(modelTemporary, { force: true })]);
        throw error;
      }
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } };
    },
  };
}

/** Loads what `fileSystemSaver` (or tfjs-node's `file://`) wrote; pass it to `tf.loadLayersModel`. */
export function fileSystemLoader(folder: string): io.IOHandler {
  const dir = resolve(folder);
  return {
    async load(): Promise<io.ModelArtifacts> {
      const path = join(dir, MODEL_JSON);
      const json = JSON.parse(await readFile(path, 'utf8').catch((error: Error) => {
        throw new Error(`${dir}: not a saved model (${(error as NodeJS.ErrnoException).code === 'ENOENT' ? `no ${MODEL_JSON}` : error.message})`);
      })) as io.ModelJSON;
      const manifest = json.weightsManifest ?? [];
      const buffers = await Promise.all(manifest.flatMap((group) => group.paths.map((p) => readFile(join(dir, p)))));
      const weightData = concatenate(buffers.map((buffer) => buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer));
      return {
        modelTopology: json.modelTopology,
        weightSpecs: manifest.flatMap((group) => group.weights),
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

/** Removes a saved model's files (for tests and for replacing a run). */
export async function removeSavedModel(folder: string): Promise<void> {
  await Promise.all([MODEL_JSON, WEIGHTS_BIN].map((name) => rm(join(resolve(folder), name), { force: true })));
}

/** tfjs hands weights as one buffer or several; the file holds them back to back. */
function concatenate(data: io.WeightData | undefined): ArrayBuffer {
  if (data === undefined) return new ArrayBuffer(0);
  return io.concatenateArrayBuffers(Array.isArray(data) ? data : [data]);
}
