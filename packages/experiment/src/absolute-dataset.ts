import { isAbsolute, resolve } from 'node:path';
import { defaultDataDir } from './experiment.js';

/**
 * A dataset with every path absolute, relative ones taken from `baseDir`, and a named dataset's
 * default folder (from the working folder) written out: stored so, a run resumed or a trial run from
 * another folder finds the same files.
 */
export function absoluteDataset(dataset: Readonly<Record<string, unknown>>, baseDir: string): Record<string, unknown> {
  const named = dataset.type !== 'arrow' && dataset.dataDir === undefined;
  return absolutePaths(
    named ? { ...dataset, dataDir: resolve(defaultDataDir(dataset as { type: string; labels?: string })) } : dataset,
    baseDir,
  );
}

function absolutePaths(dataset: Record<string, unknown>, baseDir: string): Record<string, unknown> {
  const absolute = (value: unknown): unknown =>
    typeof value === 'string' && !isAbsolute(value) ? resolve(baseDir, value) : Array.isArray(value) ? value.map(absolute) : value;
  // An image folder's labels are CSV files; CIFAR-100's are a choice of names.
  const paths = new Set(['dataDir', 'source', 'train', 'test', ...(dataset.type === 'image-folder' ? ['labels', 'testLabels'] : [])]);
  const entries = Object.entries(dataset).map(([key, value]) => [key, paths.has(key) ? absolute(value) : value]);
  return Object.fromEntries(entries);
}

/** A model's file (an imported model's), absolute: relative to `baseDir`, as the dataset's paths are. */
export function absoluteModel(model: Readonly<Record<string, unknown>>, baseDir: string): Record<string, unknown> {
  return typeof model.file === 'string' && !isAbsolute(model.file) ? { ...model, file: resolve(baseDir, model.file) } : { ...model };
}
