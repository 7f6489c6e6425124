import { DataFolder, type DataSplit } from '@rxvision/dataset/node';

/**
 * The prepared Arrow file of a split of the dataset a run's experiment (as stored, paths absolute)
 * trained on, or undefined where it names none: `train`/`test` of an `arrow` dataset (one file), else
 * the split's file in its data folder, where every named or prepared dataset keeps its splits.
 */
export function runDatasetFile(experiment: unknown, split: DataSplit): string | undefined {
  const dataset = (experiment as { dataset?: Record<string, unknown> } | undefined)?.dataset;
  if (!dataset) return undefined;
  if (dataset.type === 'arrow') return typeof dataset[split] === 'string' ? dataset[split] : undefined;
  return typeof dataset.dataDir === 'string' ? new DataFolder(dataset.dataDir).splitFile(split) : undefined;
}
