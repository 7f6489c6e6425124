import { DatasetError, type LabeledImages, randomSplit, subset } from '@rxvision/dataset';
import {
  type OpenedImages,
  openImages,
  prepareCifar10,
  prepareCifar100,
  prepareFashionMnist,
  prepareImageFolder,
  type PrepareOptions,
  prepareParquet,
  type DataSplit,
  DataFolder,
} from '@rxvision/dataset/node';
import { meanAveragePrecision, topKAccuracy } from '@rxvision/metrics';
import {
  centerCrop,
  cutmix,
  colorJitter,
  cutout,
  epochBatches,
  evaluationBatches,
  horizontalFlip,
  type ImageTransform,
  mixup,
  multiHotTargets,
  randomCrop,
  randAugment,
  randomResizedCrop,
  randomRotation,
  trivialAugment,
} from '@rxvision/stream';
import { balancedClassWeights, type FitOptions, preprocessingTransforms, sigmoidCrossEntropy, softmaxCrossEntropy } from '@rxvision/train';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { resolve } from 'node:path';
import { defaultDataDir, type Experiment } from './experiment.js';
import { normalizationOf } from './normalization.js';
import { ExperimentError } from './experiment-error.js';
import { modelOf } from './model-types.js';
import { quote } from './parse-experiment.js';

/** An experiment made into parts: `fit(createModel(), fitOptions)`, then evaluate on `testBatches`. */
export interface ComposedExperiment {
  /**
   * A new model with the experiment's seeded initial weights, on the tfjs backend current when it is
   * called (so an application picks its backend after composing, and may probe it with a throwaway model).
   */
  readonly createModel: () => LayersModel;
  readonly fitOptions: FitOptions;
  readonly train: LabeledImages;
  readonly validation: LabeledImages;
  /** The test split's batches, normalised as validation's; absent when the dataset has none. */
  readonly testBatches?: FitOptions['validationBatches'];
  /** The test split itself, when the dataset has one. */
  readonly test?: LabeledImages;
  /** Parameters of the model `createModel` builds (counted without building it). */
  readonly parameters: number;
  /** Releases the dataset files opened from disk (a no-op for datasets read into memory). */
  close(): Promise<void>;
}

export interface ComposeOptions {
  /** Folder that relative paths in the experiment are taken from (the experiment file's). */
  readonly baseDir?: string;
  /** Names the experiment in errors. */
  readonly source?: string;
  /** Called while CIFAR-10 is being prepared (its first use only): for a progress bar. */
  readonly onPrepareProgress?: PrepareOptions['onProgress'];
}

/**
 * dataset → split → stream (augmentations, normalisation) → model → fit options, from an
 * experiment. Prepares the dataset first if it is not prepared yet.
 */
export async function composeExperiment(experiment: Experiment, options: ComposeOptions = {}): Promise<ComposedExperiment> {
  const at = (path: string) => resolve(options.baseDir ?? '.', path);
  const source = options.source ?? 'experiment';
  const files = await datasetFiles(experiment, at, options.onPrepareProgress, source);
  const full = await openNonEmpty(files.train);
  const limited =
    experiment.limit === undefined
      ? full
      : subset(
          full,
          Array.from({ length: Math.min(experiment.limit, full.length) }, (_, i) => i),
        );
  const held = experiment.validation < 1 ? Math.round(limited.length * experiment.validation) : experiment.validation;
  if (held >= limited.length)
    throw new ExperimentError(
      source,
      `validation: expected fewer than the ${limited.length} training images, got ${experiment.validation}`,
    );
  if (held < 1) throw new ExperimentError(source, `validation: ${experiment.validation} of ${limited.length} images holds none out`);
  const [train, validation] = randomSplit(limited, [limited.length - held, held], { seed: experiment.seed }).map(
    (split): LabeledImages => split,
  ) as [LabeledImages, LabeledImages];
  if (train.classes.length < 2)
    throw new ExperimentError(source, `dataset: holds one class (${quote(train.classes[0])}); a classifier tells at least two apart`);
  if (experiment.batchSize > train.length)
    throw new ExperimentError(source, `batchSize: ${experiment.batchSize} is larger than the training split (${train.length} images)`);
  // A random resized crop sets the model's input; validation and test then crop the centre to it.
  const crop = experiment.augment.find((step) => step.type === 'randomResizedCrop')?.size;
  if (crop && (crop[0] > train.shape[0] || crop[1] > train.shape[1]))
    throw new ExperimentError(source, `augment: a randomResizedCrop of ${crop.join('×')} from ${train.shape[0]}×${train.shape[1]} images`);
  const multiLabel = train.labelSet !== undefined;
  if (multiLabel) refuseSingleLabelSettings(experiment, source);
  const classWeights = classWeightsOf(experiment.classWeights, train, source);
  const model = modelOf(experiment.model, train, crop ? [crop[0], crop[1], train.shape[2]] : train.shape);
  const parameters = checkModel(model, train, source); // the builder's own checks, as one line, before anything is built or written
  const normalize = normalizationOf(experiment.normalize);
  if (normalize && normalize.mean.length !== train.shape[2])
    throw new ExperimentError(source, `normalize.mean: expected ${train.shape[2]} values (one per channel), got ${normalize.mean.length}`);

  // The same transforms predict applies to a saved model's inputs.
  const normalisation = preprocessingTransforms({ classes: train.classes, ...(normalize && { normalize }) });
  const augmentations = experiment.augment.map((step): ImageTransform => {
    const seed = experiment.seed;
    if (step.type === 'randomCrop') return randomCrop({ padding: step.padding, seed, ...(step.fill && { fill: step.fill }) });
    if (step.type === 'horizontalFlip')
      return horizontalFlip({
        seed,
        ...(step.probability !== undefined && { probability: step.probability }),
        ...(step.alternate !== undefined && { alternate: step.alternate }),
      });
    if (step.type === 'randomResizedCrop')
      return randomResizedCrop({
        size: step.size,
        seed,
        ...(step.scale && { scale: step.scale }),
        ...(step.ratio && { ratio: step.ratio }),
      });
    if (step.type === 'mixup' || step.type === 'cutmix') {
      // timm's default α: 0.8 for mixup, 1 for cutmix.
      const options = { alpha: step.alpha ?? (step.type === 'mixup' ? 0.8 : 1), classes: train.classes.length, seed };
      return step.type === 'mixup' ? mixup(options) : cutmix(options);
    }
    if (step.type === 'colorJitter') {
      const { type: _type, ...ranges } = step;
      return colorJitter({ ...ranges, seed });
    }
    if (step.type === 'randomRotation')
      return randomRotation({ degrees: step.degrees, seed, ...(step.fill !== undefined && { fill: step.fill }) });
    if (step.type === 'trivialAugment' || step.type === 'randAugment') {
      const { type: _type, ...options } = step;
      return step.type === 'trivialAugment' ? trivialAugment({ ...options, seed }) : randAugment({ ...options, seed });
    }
    return cutout({ size: step.size, seed });
  });
  // Multi-label: each image's targets multi-hot, first, so that mixup and cutmix mix them.
  const targetsOf = (dataset: LabeledImages) =>
    dataset.labelSet ? [multiHotTargets({ classes: train.classes.length, labelsOf: dataset.labelSet })] : [];
  const evaluationTransforms = crop ? [centerCrop(crop), ...normalisation] : normalisation;
  const evaluation = (dataset: LabeledImages) =>
    evaluationBatches(dataset, { batchSize: 1000, transforms: [...targetsOf(dataset), ...evaluationTransforms] });
  const test = files.test ? await openNonEmpty(files.test) : undefined;
  if (test && (test.labelSet === undefined) === multiLabel)
    throw new ExperimentError(source, `dataset: the ${multiLabel ? 'training' : 'test'} split is multi-label and the other is not`);
  if (test && (test.shape.join() !== train.shape.join() || test.classes.join() !== train.classes.join())) {
    throw new ExperimentError(
      source,
      `dataset: the test split (${test.shape.join('×')}, classes ${test.classes.join(', ')}) does not match the training split (${train.shape.join('×')}, classes ${train.classes.join(', ')})`,
    );
  }
  const prepared = await model.prepare(normalisation);
  return {
    createModel: () => model.build(experiment.seed, prepared),
    train,
    validation,
    ...(test && { test, testBatches: evaluation(test) }),
    parameters,
    close: async () => {
      await Promise.all([full.close(), test?.close()]);
    },
    fitOptions: {
      schedule: experiment.schedule,
      optimizer: experiment.optimizer,
      loss: multiLabel
        ? sigmoidCrossEntropy()
        : softmaxCrossEntropy({ labelSmoothing: experiment.labelSmoothing, ...(classWeights && { classWeights }) }),
      ...(multiLabel && { validationLoss: sigmoidCrossEntropy() }),
      ...(experiment.earlyStopping && { earlyStopping: experiment.earlyStopping }),
      ...(experiment.keepBest !== undefined && { keepBest: experiment.keepBest }),
      ...(experiment.timeBudgetSeconds !== undefined && { timeBudgetSeconds: experiment.timeBudgetSeconds }),
      ...(experiment.testTimeAugmentation && { testTimeAugmentation: experiment.testTimeAugmentation }),
      ...(experiment.parameterGroups && { parameterGroups: experiment.parameterGroups }),
      ...(experiment.lookahead && { lookahead: experiment.lookahead }),
      ...(experiment.ema && { ema: experiment.ema }),
      ...(experiment.accumulateBatches !== undefined && { accumulateBatches: experiment.accumulateBatches }),
      ...((experiment.topK.length > 0 || multiLabel) && {
        metrics: {
          ...(multiLabel && { mAP: meanAveragePrecision() }),
          ...Object.fromEntries(experiment.topK.map((k) => [`top${k}`, topKAccuracy(k)])),
        },
      }),
      trainBatches: epochBatches(train, {
        batchSize: experiment.batchSize,
        seed: experiment.seed,
        balanced: experiment.sampler === 'balanced',
        transforms: [...targetsOf(train), ...augmentations, ...normalisation],
      }),
      validationBatches: evaluation(validation),
    },
  };
}

/** Opens a split (one file or its shards): in memory when it is small, else read from disk as used. */
async function openNonEmpty(paths: string | readonly string[]): Promise<OpenedImages> {
  const dataset = await openImages(paths);
  if (dataset.length === 0) throw new DatasetError(typeof paths === 'string' ? paths : paths.join(', '), 'holds no images');
  return dataset;
}

/**
 * The Arrow files of the experiment's dataset. A named dataset is prepared only when one of its files
 * is missing: files that are there are the user's and are read as they are (a damaged one is
 * described when opened, never prepared over).
 */
async function datasetFiles(
  experiment: Experiment,
  at: (path: string) => string,
  onProgress: ComposeOptions['onPrepareProgress'],
  source: string,
): Promise<{ train: string | readonly string[]; test?: string | readonly string[] }> {
  const { dataset } = experiment;
  const dataDir = at(('dataDir' in dataset && dataset.dataDir) || defaultDataDir(dataset));
  const data = new DataFolder(dataDir);
  const onFirstUse = async (prepare: () => Promise<unknown>) => {
    if (!(await data.isPrepared())) await prepare();
    return { train: data.splitFile('train'), test: data.splitFile('test') };
  };
  switch (dataset.type) {
    case 'cifar10':
      return onFirstUse(() => prepareCifar10({ dataDir, ...(onProgress && { onProgress }) }));
    case 'cifar100':
      return onFirstUse(() =>
        prepareCifar100({
          dataDir,
          labels: dataset.labels ?? 'fine',
          ...(dataset.source && { source: at(dataset.source) }),
          ...(onProgress && { onProgress }),
        }),
      );
    case 'fashion-mnist':
      return onFirstUse(() => prepareFashionMnist({ dataDir, ...(dataset.source && { source: at(dataset.source) }) }));
    case 'arrow': {
      const all = (split: string | readonly string[]) => (typeof split === 'string' ? at(split) : split.map(at));
      return { train: all(dataset.train), ...(dataset.test && { test: all(dataset.test) }) };
    }
    case 'parquet': {
      const { imageColumn, labelColumn, size, channels } = dataset;
      const shards = (source: string | readonly string[], split: DataSplit) =>
        prepareParquet({
          source: (typeof source === 'string' ? [source] : source).map(at),
          out: data.splitFile(split),
          ...(imageColumn && { imageColumn }),
          ...(labelColumn && { labelColumn }),
          ...(size && { size }),
          ...(channels && { channels }),
        });
      const train = await shards(dataset.train, 'train');
      const test = dataset.test === undefined ? undefined : await shards(dataset.test, 'test');
      return { train: train.path, ...(test && { test: test.path }) };
    }
    case 'image-folder': {
      const unpaired =
        dataset.test === undefined
          ? dataset.testLabels !== undefined
          : (dataset.labels === undefined) !== (dataset.testLabels === undefined);
      if (unpaired) throw new ExperimentError(source, 'dataset: labels, testLabels and test go together (a labels CSV for each folder)');
      const folder = (images: string, split: DataSplit, labels: string | undefined) =>
        prepareImageFolder({
          source: at(images),
          out: data.splitFile(split),
          ...(labels && { labels: at(labels) }),
          ...(dataset.size && { size: dataset.size }),
          ...(dataset.channels && { channels: dataset.channels }),
        });
      const train = await folder(dataset.train, 'train', dataset.labels);
      const test = dataset.test === undefined ? undefined : await folder(dataset.test, 'test', dataset.testLabels);
      return { train: train.path, ...(test && { test: test.path }) };
    }
  }
}

/** What the model's builder would refuse (too deep for the images, too large to allocate), as an ExperimentError. */
function checkModel(model: ReturnType<typeof modelOf>, train: LabeledImages, source: string): number {
  try {
    return model.parameters();
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new ExperimentError(
      source,
      `model: ${error.message.replace(/^create\w+: /, '')} (for ${train.shape.join('×')} images in ${train.classes.length} classes)`,
    );
  }
}

/** The loss's class weights: as given (one per class), or balanced from the training split's counts. */
function classWeightsOf(given: Experiment['classWeights'], train: LabeledImages, source: string): number[] | undefined {
  if (given === undefined) return undefined;
  if (given !== 'balanced') {
    if (given.length !== train.classes.length)
      throw new ExperimentError(source, `classWeights: ${given.length} weights for the dataset's ${train.classes.length} classes`);
    return [...given];
  }
  const counts = new Array<number>(train.classes.length).fill(0);
  for (let row = 0; row < train.length; row++) counts[train.label(row)]!++;
  return balancedClassWeights(counts);
}

/** What only means something with one class an image, refused in one line for multi-label data. */
function refuseSingleLabelSettings(experiment: Experiment, source: string): void {
  const refused = (field: string, why: string) => new ExperimentError(source, `${field}: not for multi-label data (${why})`);
  if (experiment.labelSmoothing > 0) throw refused('labelSmoothing', 'each class is its own yes or no, by sigmoid cross-entropy');
  if (experiment.classWeights !== undefined) throw refused('classWeights', 'class counts of label sets are not a softmax weighting');
  if (experiment.sampler === 'balanced') throw refused('sampler', 'an image of several classes has no one class to balance by');
}
