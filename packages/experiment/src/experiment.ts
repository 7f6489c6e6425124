import { z } from 'zod';

const positiveInteger = z.number().int().positive();
const rate = z.number().positive();
/** One file, or the shards of one split in order. */
const files = z.union([z.string(), z.array(z.string()).min(1)]);

/** Where the images come from. Relative paths are taken from the experiment file's folder. */
const dataset = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('cifar10'), dataDir: z.string().optional() }),
  /** CIFAR-100 with its 100 classes (`fine`) or 20 superclasses (`coarse`), prepared from `source` on first use. */
  z.strictObject({ type: z.literal('cifar100'), labels: z.enum(['fine', 'coarse']).optional(), dataDir: z.string().optional(), source: z.string().optional() }),
  z.strictObject({ type: z.literal('fashion-mnist'), dataDir: z.string().optional(), source: z.string().optional() }),
  /** Prepared rxvision Arrow files; a split in several files is read as one, from disk if it is large. */
  z.strictObject({ type: z.literal('arrow'), train: files, test: files.optional() }),
  /** Parquet shards as the Hugging Face hub stores them, prepared into `dataDir` (default data/parquet) on first use. */
  z.strictObject({
    type: z.literal('parquet'),
    train: files,
    test: files.optional(),
    dataDir: z.string().optional(),
    imageColumn: z.string().optional(),
    labelColumn: z.string().optional(),
    size: z.tuple([positiveInteger, positiveInteger]).optional(),
    channels: z.union([z.literal(1), z.literal(3)]).optional(),
  }),
  /** Folders with one sub-folder per class, prepared into `dataDir` (default data/image-folder) on first use. */
  z.strictObject({
    type: z.literal('image-folder'),
    train: z.string(),
    test: z.string().optional(),
    dataDir: z.string().optional(),
    /** [height, width] to resize to; without it every image must have the first one's size. */
    size: z.tuple([positiveInteger, positiveInteger]).optional(),
    channels: z.union([z.literal(1), z.literal(3)]).optional(),
  }),
]);

const model = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('tutorial'), outputRelu: z.boolean().optional() }),
  z.strictObject({ type: z.literal('mlp'), hidden: z.array(positiveInteger).min(1), dropout: z.number().min(0).lt(1).optional() }),
  z.strictObject({ type: z.literal('cnn'), blocks: z.array(positiveInteger).min(1), convolutionsPerBlock: positiveInteger.optional(), batchNorm: z.boolean().optional(), dropout: z.number().min(0).lt(1).optional() }),
  z.strictObject({ type: z.literal('resnet'), stages: z.array(positiveInteger).min(1), blocksPerStage: positiveInteger.optional(), stemFilters: positiveInteger.optional(), dropout: z.number().min(0).lt(1).optional() }),
]);

const augmentation = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('randomCrop'), padding: z.number().int().min(0) }),
  z.strictObject({ type: z.literal('horizontalFlip'), probability: z.number().min(0).max(1).optional() }),
  z.strictObject({ type: z.literal('cutout'), size: positiveInteger }),
]);

const optimizer = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('sgd'), momentum: z.number().min(0).lt(1).optional(), nesterov: z.boolean().optional(), weightDecay: z.number().min(0).optional() }),
  z.strictObject({ type: z.enum(['adam', 'adamw']), beta1: z.number().min(0).lt(1).optional(), beta2: z.number().min(0).lt(1).optional(), epsilon: z.number().positive().optional(), weightDecay: z.number().min(0).optional() }),
]);

const phase = z.strictObject({ epochs: positiveInteger, learningRate: rate });
const schedule = z.union([
  z.array(phase).min(1),
  z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('cosine'), epochs: positiveInteger, peak: rate, warmupEpochs: z.number().min(0).optional(), final: z.number().min(0).optional() }),
    z.strictObject({ type: z.literal('linear'), epochs: positiveInteger, from: rate, to: z.number().min(0), warmupEpochs: z.number().min(0).optional() }),
    z.strictObject({ type: z.literal('oneCycle'), epochs: positiveInteger, peak: rate, warmupFraction: z.number().gt(0).lt(1).optional() }),
  ]),
]);

/**
 * An experiment: everything a run needs, as data. Unknown fields are refused (a typo must not be
 * silently ignored); defaults are the tutorial's.
 */
export const experimentSchema = z.strictObject({
  /** For people: what the experiment is for. */
  description: z.string().optional(),
  seed: z.number().int().default(43),
  dataset,
  /** Images held out of the training split for validation: a count, or a fraction below 1. */
  validation: z.union([z.number().int().min(1), z.number().gt(0).lt(1)]).default(5000),
  /** Use only the first N training images (quick runs). */
  limit: z.number().int().min(10).optional(),
  batchSize: positiveInteger.default(128),
  model,
  augment: z.array(augmentation).default([]),
  /** Per-channel normalisation of pixels in [0, 1], applied to every split. */
  normalize: z.strictObject({ mean: z.array(z.number()).min(1), std: z.array(z.number().positive()).min(1) }).optional(),
  optimizer: optimizer.default({ type: 'sgd' }),
  schedule,
  labelSmoothing: z.number().min(0).lt(1).default(0),
  /** Extra validation metrics: top-k accuracies. */
  topK: z.array(z.number().int().min(2)).default([]),
});

export type Experiment = z.output<typeof experimentSchema>;
/** What a file may say: the fields with defaults may be left out. */
export type ExperimentInput = z.input<typeof experimentSchema>;

/** Where a dataset that is prepared on first use goes when its experiment names no `dataDir`. */
export function defaultDataDir(dataset: { readonly type: string; readonly labels?: string }): string {
  return dataset.type === 'cifar100' ? `data/cifar100-${dataset.labels ?? 'fine'}` : `data/${dataset.type}`;
}
