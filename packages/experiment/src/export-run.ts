import { join, resolve } from 'node:path';
import { claimFolder } from '@rxvision/folder';
import { hasSavedModel, SAVED_MODEL_FILES } from '@rxvision/model/node';
import { RUN_FILES, RunFolder } from '@rxvision/run-folder';
import { classifierToOnnx } from '@rxvision/train';
import { loadClassifier } from '@rxvision/train/node';
import { ExperimentError } from './experiment-error.js';

/** The export formats a run's model has; ONNX is the one so far. */
export const EXPORT_FORMATS = ['onnx'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/**
 * Where the classifier of `folder` is saved: a run folder's `model/`, or the folder itself when
 * `saveClassifier` wrote it there (a classifier saved from code). An ExperimentError in one line when
 * it is neither.
 */
export async function savedClassifierFolder(folder: string): Promise<string> {
  const inRun = new RunFolder(folder).file('model');
  if (await hasSavedModel(inRun)) return inRun;
  if (await hasSavedModel(folder)) return resolve(folder);
  const [run, saved] = [join(RUN_FILES.model, SAVED_MODEL_FILES.topology), SAVED_MODEL_FILES.topology];
  throw new ExperimentError(
    resolve(folder),
    `neither a run folder (no ${run}) nor a classifier saved from code (no ${saved}); pass the --out folder of rxvision train or the folder saveClassifier wrote`,
  );
}

/**
 * Writes a finished run's model as ONNX (`model.onnx` in the run folder, whole or not at all; beside
 * `model.json` for a classifier saved from code),
 * class names and normalisation in its metadata, and returns its path. Runs write it themselves
 * when they finish; this is for runs made before, or to write it again. It claims the run folder
 * while it writes, as every writer of a run folder does: a run training there refuses it
 * (`FolderHeldError`). A tfjs backend must be registered (any: the weights are only read).
 *
 * ```ts
 * await selectBackend('cpu');
 * const path = await exportRun('runs/r1'); // runs/r1/model.onnx
 * ```
 */
export async function exportRun(folder: string, format: ExportFormat = 'onnx'): Promise<string> {
  if (format !== 'onnx') throw new RangeError(`exportRun: no export to ${String(format)}; formats: ${EXPORT_FORMATS.join(', ')}`);
  const run = new RunFolder(folder);
  const classifier = await loadClassifier(await savedClassifierFolder(folder));
  try {
    const bytes = classifierToOnnx(classifier);
    const claim = await claimFolder(folder, { purpose: 'export' });
    try {
      const path = run.file('onnxModel');
      await claim.writeFile(path, bytes);
      return path;
    } finally {
      await claim.release();
    }
  } finally {
    classifier.model.dispose();
  }
}
