import { z } from 'zod';
import { TEST_TIME_AUGMENTATIONS } from '@rxvision/train';
import { modelSettings } from './model-types.js';

// Limits say why in the error line: a value past them cannot run (it would not fit in memory or never end).
const positiveInteger = z.number().int().positive();

/** What convolutions and products may compute in (`precision`); the backend must compute in it or refuse. */
export const PRECISIONS = ['float32', 'bfloat16'] as const;
export type Precision = (typeof PRECISIONS)[number];
const rate = z.number().positive();
const epochs = positiveInteger.max(100_000, 'more epochs than any run finishes');
const side = positiveInteger.max(4096, 'larger than rxvision reads images');
/** A path: the longest a Linux file system takes. */
const path = z.string().min(1).max(4096, 'longer than any path a file system takes');
/** One file, or the shards of one split in order. */
const files = z.union([path, z.array(path).min(1).max(100_000, 'more shards than one split holds')]);

/** Where the images come from. Relative paths are taken from the experiment file's folder. */
const dataset = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('cifar10'), dataDir: path.optional() }),
  /** CIFAR-100 with its 100 classes (`fine`) or 20 superclasses (`coarse`), prepared from `source` on first use. */
  z.strictObject({
    type: z.literal('cifar100'),
    labels: z.enum(['fine', 'coarse']).optional(),
    dataDir: path.optional(),
    source: path.optional(),
  }),
  z.strictObject({ type: z.literal('fashion-mnist'), dataDir: path.optional(), source: path.optional() }),
  /** Prepared rxvision Arrow files; a split in several files is read as one, from disk if it is large. */
  z.strictObject({ type: z.literal('arrow'), train: files, test: files.optional() }),
  /** Parquet shards as the Hugging Face hub stores them, prepared into `dataDir` (default data/parquet) on first use. */
  z.strictObject({
    type: z.literal('parquet'),
    train: files,
    test: files.optional(),
    dataDir: path.optional(),
    imageColumn: path.optional(),
    labelColumn: path.optional(),
    size: z.tuple([side, side]).optional(),
    channels: z.union([z.literal(1), z.literal(3)]).optional(),
  }),
  /** Folders with one sub-folder per class, prepared into `dataDir` (default data/image-folder) on first use. */
  z.strictObject({
    type: z.literal('image-folder'),
    train: path,
    test: path.optional(),
    /** Multi-label: a CSV of `file,labels` lines (space-separated classes) for the train folder, and one for test. */
    labels: path.optional(),
    testLabels: path.optional(),
    dataDir: path.optional(),
    /** [height, width] to resize to; without it every image must have the first one's size. */
    size: z.tuple([side, side]).optional(),
    channels: z.union([z.literal(1), z.literal(3)]).optional(),
  }),
]);

// The model types and their settings: see model-types.ts, where a new one goes.
const model = modelSettings;

/** A colour factor's range: x for [max(0, 1 − x), 1 + x], or [low, high]. */
const jitterRange = z.union([z.number().min(0).max(100), z.tuple([z.number().min(0).max(100), z.number().min(0).max(100)])]);

const augmentation = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('randomCrop'),
    padding: z.number().int().min(0).max(4096, 'larger than rxvision reads images'),
    fill: z.enum(['zeros', 'reflect']).optional(),
  }),
  z.strictObject({
    type: z.literal('horizontalFlip'),
    probability: z.number().min(0).max(1).optional(),
    alternate: z.boolean().optional(),
  }),
  z.strictObject({ type: z.literal('cutout'), size: side }),
  z.strictObject({
    type: z.literal('colorJitter'),
    brightness: jitterRange.optional(),
    contrast: jitterRange.optional(),
    saturation: jitterRange.optional(),
    hue: z.union([z.number().min(0).max(0.5), z.tuple([z.number().min(-0.5).max(0.5), z.number().min(-0.5).max(0.5)])]).optional(),
  }),
  z.strictObject({
    type: z.literal('randomRotation'),
    degrees: z.union([z.number().min(0).max(360), z.tuple([z.number().min(-360).max(360), z.number().min(-360).max(360)])]),
    fill: z.number().optional(),
  }),
  z.strictObject({
    type: z.literal('trivialAugment'),
    bins: z.number().int().min(2).max(1000).optional(),
    fill: z.number().optional(),
  }),
  z
    .strictObject({
      type: z.literal('randAugment'),
      ops: z.number().int().min(1).max(14).optional(),
      magnitude: z.number().int().min(0).max(999).optional(),
      bins: z.number().int().min(2).max(1000).optional(),
      fill: z.number().optional(),
    })
    .check((context) => {
      const { magnitude = 9, bins = 31 } = context.value;
      if (magnitude >= bins)
        context.issues.push({ code: 'custom', message: `expected a bin below bins (${bins})`, path: ['magnitude'], input: magnitude });
    }),
  z.strictObject({ type: z.literal('mixup'), alpha: z.number().positive().max(100).optional() }),
  z.strictObject({ type: z.literal('cutmix'), alpha: z.number().positive().max(100).optional() }),
  z.strictObject({
    type: z.literal('randomResizedCrop'),
    size: z.tuple([side, side]),
    scale: z.tuple([z.number().gt(0).max(1), z.number().gt(0).max(1)]).optional(),
    ratio: z.tuple([z.number().positive(), z.number().positive()]).optional(),
  }),
]);

/** Gradient clipping, with every optimizer: PyTorch's clip_grad_value_ and clip_grad_norm_ (global). */
const clipping = {
  maxGradientValue: z.number().positive().optional(),
  maxGradientNorm: z.number().positive().optional(),
};

const optimizer = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('sgd'),
    momentum: z.number().min(0).lt(1).optional(),
    nesterov: z.boolean().optional(),
    weightDecay: z.number().min(0).optional(),
    ...clipping,
  }),
  z.strictObject({
    type: z.enum(['adam', 'adamw']),
    beta1: z.number().min(0).lt(1).optional(),
    beta2: z.number().min(0).lt(1).optional(),
    epsilon: z.number().positive().optional(),
    weightDecay: z.number().min(0).optional(),
    ...clipping,
  }),
]);

/** A figure of the epoch record: `valLoss`, `valAccuracy`, `trainLoss`, or a `topK` metric (`top5`). */
const watched = { monitor: z.string().min(1).max(100), mode: z.enum(['min', 'max']).optional(), minDelta: z.number().min(0).optional() };

const phase = z.strictObject({ epochs, learningRate: rate });
const schedule = z.union([
  z.array(phase).min(1).max(1000, 'more phases than a schedule needs'),
  z.discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('cosine'),
      epochs,
      peak: rate,
      warmupEpochs: z.number().min(0).optional(),
      final: z.number().min(0).optional(),
    }),
    z.strictObject({ type: z.literal('linear'), epochs, from: rate, to: z.number().min(0), warmupEpochs: z.number().min(0).optional() }),
    z.strictObject({ type: z.literal('oneCycle'), epochs, peak: rate, warmupFraction: z.number().gt(0).lt(1).optional() }),
    z.strictObject({
      type: z.literal('triangle'),
      epochs,
      peak: rate,
      start: z.number().min(0).optional(),
      end: z.number().min(0).optional(),
      warmupFraction: z.number().gt(0).lt(1).optional(),
    }),
    z.strictObject({
      type: z.literal('plateau'),
      epochs,
      learningRate: rate,
      monitor: watched.monitor.optional(),
      mode: watched.mode,
      factor: z.number().gt(0).lt(1).optional(),
      patience: z.number().int().min(0).optional(),
      threshold: z.number().min(0).optional(),
      cooldown: z.number().int().min(0).optional(),
      minLearningRate: z.number().min(0).optional(),
    }),
  ]),
]);

/**
 * An experiment: everything a run needs, as data. Unknown fields are refused (a typo must not be
 * silently ignored); defaults are the tutorial's.
 */
export const experimentSchema = z.strictObject({
  $schema: z
    .string()
    .max(4096)
    .optional()
    .describe(
      'The JSON Schema this file follows, for editors: "../packages/experiment/experiment.schema.json" in this repository, or node_modules/@rxvision/experiment/experiment.schema.json',
    ),
  description: z.string().max(10_000, 'a description, not a document').optional().describe('For people: what the experiment is for.'),
  seed: z.number().int().default(43).describe('Seeds the split, the shuffling, the augmentation and the initial weights.'),
  dataset: dataset.describe(
    "Where the images come from: a named dataset (cifar10, cifar100, fashion-mnist; prepared on first use), prepared Arrow files, Parquet shards or image folders. Relative paths are the file's folder's.",
  ),
  validation: z
    .union([z.number().int().min(1), z.number().gt(0).lt(1)])
    .default(5000)
    .describe('Images held out of the training split for validation: a count, or a fraction below 1.'),
  limit: z.number().int().min(10).optional().describe('Train and validate on the first N training images only (quick runs).'),
  batchSize: positiveInteger.default(128).describe('Images per optimisation step.'),
  precision: z
    .enum(PRECISIONS)
    .optional()
    .describe(
      "What convolutions and matrix products compute in: float32 (the default), or bfloat16 mixed precision (bfloat16 operands, float32 sums, outputs and weights, as PyTorch's CPU autocast), which the onednn and onednn-cpu backends run on a CPU with AVX512-BF16 at about twice float32's rate; elsewhere the run is refused in one line.",
    ),
  model: model.describe(
    'The network: tutorial, mlp (hidden widths), cnn (blocks of filters), resnet (stages of filters), airbench (three block widths; its whitening layer set from the first whitenImages training images).',
  ),
  augment: z
    .array(augmentation)
    .default([])
    .describe(
      'Training-time augmentations in order: randomCrop (padding; fill zeros or reflect), horizontalFlip (probability; alternate: each image mirrored on alternate epochs), cutout (size), randomResizedCrop (size, scale, ratio: the model then takes that size, and validation and test crop the centre), colorJitter (brightness, contrast, saturation, hue, as in torchvision), randomRotation (degrees, fill; nearest, as in torchvision), trivialAugment (bins, fill: torchvision’s TrivialAugmentWide, one of fourteen operations at a drawn magnitude per image), randAugment (ops, magnitude, bins, fill: torchvision’s RandAugment, ops operations in turn at the one magnitude bin), mixup and cutmix (alpha of their Beta draw, default 0.8 and 1 as timm: whole batches mixed with their reverse, targets too; put them last); seeded by seed.',
    ),
  normalize: z
    .union([
      z.literal('imagenet'),
      z.strictObject({
        mean: z.array(z.number()).min(1).max(4, 'more than the channels of an image'),
        std: z.array(z.number().positive()).min(1).max(4, 'more than the channels of an image'),
      }),
    ])
    .optional()
    .describe(
      "Per-channel normalisation of pixels in [0, 1], applied to every split: { mean, std }, or imagenet (ImageNet's, as torchvision's pretrained models expect).",
    ),
  optimizer: optimizer
    .default({ type: 'sgd' })
    .describe(
      "sgd (momentum, nesterov, weightDecay), adam or adamw (beta1, beta2, epsilon, weightDecay), each with maxGradientNorm (global, as PyTorch's clip_grad_norm_) and maxGradientValue; one for the whole run.",
    ),
  schedule: schedule.describe(
    "The learning rate over the run: phases [{ epochs, learningRate }] one after another; cosine, linear, oneCycle or triangle (airbench's) per step; or plateau (PyTorch's ReduceLROnPlateau: learningRate times factor, default 0.1, once monitor, default valLoss, has not got better by threshold, relative, 1e-4, for more than patience epochs, 10; then cooldown epochs; not below minLearningRate).",
  ),
  lookahead: z
    .strictObject({
      every: z.number().int().min(1).optional().describe('Steps between updates (default 5).'),
      decay: z.number().min(0).max(1).optional().describe('The decay at the last step (default 0.95^5).'),
      power: z.number().min(0).optional().describe('How the decay grows with the share of steps done (default 3).'),
    })
    .optional()
    .describe(
      'Lookahead (airbench): an average of the weights the weights are reset to every few steps and become at the end; kept in checkpoints.',
    ),
  accumulateBatches: z
    .number()
    .int()
    .min(1)
    .max(4096)
    .optional()
    .describe(
      'Batches whose gradients are summed before one optimizer step, as their mean: an effective batch that many times batchSize in the memory of one (batch norm still sees each batch). Not with lookahead.',
    ),
  ema: z
    .strictObject({
      decay: z.number().gt(0).lt(1).optional().describe('Default 0.9998: an average over about 1/(1 − decay) = 5,000 steps.'),
    })
    .optional()
    .describe(
      "An exponential moving average of the weights (timm's ModelEma), updated after every step: validation runs on it, keepBest keeps it, the run ends with it (saved, tested, exported); kept in checkpoints.",
    ),
  parameterGroups: z
    .array(
      z.strictObject({
        match: z.string().min(1).describe("A regular expression on the weight's name, LAYER/WEIGHT: /beta$ is every batch-norm bias."),
        learningRateScale: z.number().positive().optional().describe('Multiplies the learning rate for these weights (any optimizer).'),
        weightDecay: z.number().min(0).optional().describe("Their weight decay, instead of the optimizer's."),
        epochs: z.number().int().min(0).optional().describe('Trained in the first N epochs only.'),
        frozenEpochs: z
          .number()
          .int()
          .min(0)
          .optional()
          .describe('Left as they are for the first N epochs, then trained (a pretrained body while a new head learns).'),
      }),
    )
    .optional()
    .describe(
      'Settings for some weights, each taking the first group whose match its name matches: a learning-rate scale, a weight decay, epochs trained.',
    ),
  labelSmoothing: z.number().min(0).lt(1).default(0).describe('Target mass moved from the true class onto every class (0 to <1).'),
  sampler: z
    .enum(['shuffle', 'balanced'])
    .default('shuffle')
    .describe(
      "How each epoch's training rows are drawn: shuffle (each once), or balanced (as many draws as rows, each class equally often: PyTorch's WeightedRandomSampler with 1/count weights).",
    ),
  classWeights: z
    .union([z.literal('balanced'), z.array(z.number().min(0)).min(2)])
    .optional()
    .describe(
      "A weight per class in the loss (PyTorch's CrossEntropyLoss weight), or balanced: training images / (classes × the class's), from the training split.",
    ),
  testTimeAugmentation: z
    .enum(TEST_TIME_AUGMENTATIONS)
    .optional()
    .describe(
      'Views averaged when validating and testing: mirror (each image and its mirror), mirror-translate (airbench: also moved one pixel each way); default none.',
    ),
  earlyStopping: z
    .strictObject({ ...watched, patience: positiveInteger.max(100_000, 'more epochs than any run finishes') })
    .optional()
    .describe(
      'End once monitor (valLoss, valAccuracy, trainLoss, topK metrics such as top5) has not got better for patience epochs; mode min for losses, else max.',
    ),
  keepBest: z
    .union([z.boolean(), z.strictObject(watched)])
    .optional()
    .describe("End with the weights of the best epoch: true (by earlyStopping's figure, else valLoss), or { monitor, mode }."),
  timeBudgetSeconds: z
    .number()
    .positive()
    .max(31_536_000, 'longer than a year')
    .optional()
    .describe('Seconds of training the run may take: no epoch starts that is expected to end past them.'),
  topK: z
    .array(z.number().int().min(2).max(100_000, 'more classes than a dataset has'))
    .max(16, 'more metrics than a table shows')
    .default([])
    .describe('Extra validation metrics: top-k accuracies (each k ≥ 2).'),
});

export type Experiment = z.output<typeof experimentSchema>;
/** What a file may say: the fields with defaults may be left out. */
export type ExperimentInput = z.input<typeof experimentSchema>;

/** Where a dataset that is prepared on first use goes when its experiment names no `dataDir`. */
export function defaultDataDir(dataset: { readonly type: string; readonly labels?: string }): string {
  return dataset.type === 'cifar100' ? `data/cifar100-${dataset.labels ?? 'fine'}` : `data/${dataset.type}`;
}

/** The experiment file's JSON Schema (what a file may say: fields with defaults optional), for editors and other tools. */
export function experimentJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(experimentSchema, { io: 'input', target: 'draft-2020-12' }),
    title: 'rxvision experiment',
    description:
      "Everything a training run needs, as data (@rxvision/experiment). Unknown fields are refused; defaults are the tutorial's.",
  };
}
