import type { ImageShape, LabeledImages } from '@rxvision/dataset';
import {
  checkAirbenchOptions,
  checkCnnOptions,
  checkImageNetResNetOptions,
  checkMobileNetV2Options,
  checkMobileNetV3Options,
  checkMlpOptions,
  checkResNetOptions,
  createAirbench,
  createCnn,
  createImageNetResNet,
  createMobileNetV2,
  createMobileNetV3,
  createMlp,
  createResNet,
  createTutorialModel,
  TUTORIAL_HIDDEN_UNITS,
  whiteningKernel,
} from '@rxvision/model';
import { type ImageTransform, readImages } from '@rxvision/stream';
import { basename } from 'node:path';
import { checkImportedModel, createImportedModel, readImportedGraph } from './imported-model.js';
import type { ReadModel } from '@rxvision/onnx';
import { checkTfjsModel, createTfjsModel, loadTfjsModel, tfjsModelFolder } from './tfjs-model.js';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { concatMap, lastValueFrom, of } from 'rxjs';
import { z } from 'zod';

// Limits say why in the error line: a value past them cannot run (it would not fit in memory).
const positiveInteger = z.number().int().positive();
const width = positiveInteger.max(65_536, 'wider than a layer that fits in memory');
const depth = (max: number) => z.array(width).min(1).max(max, `deeper than rxvision builds`);
const dropout = z.number().min(0).lt(1).optional();
/** Keras' convention (PyTorch's momentum is 1 minus it); default 0.9: see @rxvision/model. */
const batchNormMomentum = z.number().min(0).lt(1).optional();

/** What every model is built for: the images' shape and the number of classes. */
interface ModelInput {
  readonly inputShape: ImageShape;
  readonly classes: number;
}

type SettingsSchema = z.ZodObject<{ type: z.ZodLiteral<string> }>;

/**
 * One model type an experiment may name: its settings, what it refuses before anything is built
 * (returning its parameter count), how it is built (with the seed of its initial weights), and what
 * it needs from the training images first (airbench's whitening). The summary describes it as its
 * settings unless `describe` says.
 */
interface ModelType<Schema extends SettingsSchema, Prepared = undefined, Settings = z.infer<Schema>, Read = undefined> {
  readonly settings: Schema;
  /** A file the type reads (an imported model's graph): read once, for check and prepare both. */
  read?(settings: Settings): Read;
  check(settings: Settings, input: ModelInput, read: Read): number;
  build(settings: Settings, input: ModelInput & { readonly seed: number }, prepared: Prepared): LayersModel;
  prepare?(settings: Settings, train: LabeledImages, transforms: readonly ImageTransform[], read: Read): Promise<Prepared>;
  describe?(settings: Settings, input: ModelInput): string;
  /** Fields of its own in the run's summary. */
  summary?(settings: Settings): Record<string, unknown>;
}

const modelType = <Schema extends SettingsSchema, Prepared = undefined, Read = undefined>(
  type: ModelType<Schema, Prepared, z.infer<Schema>, Read>,
) => type;

const tutorial = modelType({
  settings: z.strictObject({ type: z.literal('tutorial'), outputRelu: z.boolean().optional() }),
  check: (_settings, input) => checkMlpOptions({ ...input, hidden: TUTORIAL_HIDDEN_UNITS }),
  build: ({ outputRelu }, input) => createTutorialModel({ ...input, ...(outputRelu !== undefined && { outputRelu }) }),
  summary: ({ outputRelu }) => ({ outputRelu: outputRelu ?? true }),
  describe: (_settings, { inputShape, classes }) =>
    `${inputShape.reduce((a, b) => a * b, 1)}→${TUTORIAL_HIDDEN_UNITS.join('→')}→${classes}`,
});

const mlp = modelType({
  settings: z.strictObject({ type: z.literal('mlp'), hidden: depth(64), dropout }),
  check: (settings, input) => checkMlpOptions({ ...input, ...settings }),
  build: (settings, input) => createMlp({ ...input, ...settings }),
});

const cnn = modelType({
  settings: z.strictObject({
    type: z.literal('cnn'),
    blocks: depth(16),
    convolutionsPerBlock: positiveInteger.max(64, 'deeper than rxvision builds').optional(),
    batchNorm: z.boolean().optional(),
    batchNormMomentum,
    dropout,
  }),
  check: (settings, input) => checkCnnOptions({ ...input, ...settings }),
  build: (settings, input) => createCnn({ ...input, ...settings }),
});

const resnet = modelType({
  settings: z.strictObject({
    type: z.literal('resnet'),
    stages: depth(16),
    blocksPerStage: positiveInteger.max(64, 'deeper than rxvision builds').optional(),
    stemFilters: width.optional(),
    batchNormMomentum,
    dropout,
  }),
  check: (settings, input) => checkResNetOptions({ ...input, ...settings }),
  build: (settings, input) => createResNet({ ...input, ...settings }),
});

const airbenchSettings = z.strictObject({
  type: z.literal('airbench'),
  widths: z.tuple([width, width, width]).optional(),
  batchNormMomentum: z.number().min(0).lt(1).optional(),
  outputScale: z.number().positive().optional(),
  whitenKernelSize: positiveInteger.max(8, 'larger than a patch whitening needs').optional(),
  whitenImages: positiveInteger.optional(),
  whitenEpsilon: z.number().positive().optional(),
});

const airbench = modelType<typeof airbenchSettings, Float32Array>({
  settings: airbenchSettings,
  check: (settings, input) => checkAirbenchOptions({ ...input, ...settings }),
  build: ({ whitenImages: _images, whitenEpsilon: _epsilon, ...settings }, input, whitening) =>
    createAirbench({ ...input, ...settings, ...(whitening && { whitening }) }),
  // Its whitening kernel, from the first `whitenImages` (5000) training images preprocessed as the model sees them.
  prepare: async (settings, train, transforms) => {
    const count = Math.min(settings.whitenImages ?? 5000, train.length);
    const rows = of(Uint32Array.from({ length: count }, (_, i) => i));
    const images = transforms.reduce((stream, transform) => transform(stream), rows.pipe(readImages(train)));
    const batch = await lastValueFrom(images.pipe(concatMap((pending) => pending)));
    return whiteningKernel(batch.pixels, [count, ...train.shape], {
      ...(settings.whitenKernelSize && { kernelSize: settings.whitenKernelSize }),
      ...(settings.whitenEpsilon && { epsilon: settings.whitenEpsilon }),
    });
  },
});

const imagenetResnet = modelType({
  settings: z.strictObject({
    type: z.literal('imagenet-resnet'),
    depth: z.union([z.literal(18), z.literal(34), z.literal(50)]),
    batchNormMomentum,
    dropout,
  }),
  check: (settings, input) => checkImageNetResNetOptions({ ...input, ...settings }),
  build: (settings, input) => createImageNetResNet({ ...input, ...settings }),
  describe: ({ depth }, { inputShape, classes }) => `ResNet-${depth} on ${inputShape.join('×')} → ${classes} classes`,
});

const mobilenetV2 = modelType({
  settings: z.strictObject({ type: z.literal('mobilenet-v2'), batchNormMomentum, dropout }),
  check: (settings, input) => checkMobileNetV2Options({ ...input, ...settings }),
  build: (settings, input) => createMobileNetV2({ ...input, ...settings }),
  describe: (_settings, { inputShape, classes }) => `MobileNetV2 on ${inputShape.join('×')} → ${classes} classes`,
});

const mobilenetV3 = modelType({
  settings: z.strictObject({
    type: z.literal('mobilenet-v3'),
    variant: z.enum(['small', 'large']),
    widthMultiplier: z.number().positive().max(4).optional(),
    batchNormMomentum,
    dropout,
  }),
  check: (settings, input) => checkMobileNetV3Options({ ...input, ...settings }),
  build: (settings, input) => createMobileNetV3({ ...input, ...settings }),
  describe: ({ variant }, { inputShape, classes }) => `MobileNetV3-${variant} on ${inputShape.join('×')} → ${classes} classes`,
});

const tfjsSettings = z.strictObject({
  type: z.literal('tfjs'),
  /** A tfjs-layers model (tfjs-models, Teachable Machine): its model.json, or their folder. */
  file: z.string().min(1),
  replaceHead: z.boolean().optional(),
});

const onnxSettings = z.strictObject({
  type: z.literal('onnx'),
  file: z.string().min(1),
  replaceHead: z.boolean().optional(),
  dimensions: z.record(z.string(), positiveInteger).optional(),
});

const onnx = modelType<typeof onnxSettings, ReadModel, ReadModel>({
  settings: onnxSettings,
  // The graph is parsed once (a ResNet-50 is 100 MB): checked against the data, then every model built from it.
  read: (settings) => readImportedGraph(settings.file),
  // Read, not built: what does not fit the data is refused here, in one line naming the file.
  check: (settings, input, graph) => checkImportedModel(graph, { ...settings, ...input }),
  prepare: (_settings, _train, _transforms, graph) => Promise.resolve(graph),
  build: (settings, input, graph) => createImportedModel(graph, { ...settings, ...input }),
  describe: ({ file }, { inputShape, classes }) => `${basename(file)} (ONNX) on ${inputShape.join('×')} → ${classes} classes`,
});

const tfjs = modelType<typeof tfjsSettings, LayersModel>({
  settings: tfjsSettings,
  check: (settings, input) => checkTfjsModel({ ...settings, ...input }),
  // Loaded once (model.json and its weights shards), copied for each model built.
  prepare: (settings) => loadTfjsModel(settings.file),
  build: (settings, input, loaded) => createTfjsModel(loaded, { ...settings, ...input }),
  describe: ({ file }, { inputShape, classes }) =>
    `${basename(tfjsModelFolder(file))}/model.json (tfjs) on ${inputShape.join('×')} → ${classes} classes`,
});

/** The model types, by the name an experiment gives: a new one is one entry here (and in `modelSettings`). */
const MODEL_TYPES = {
  tutorial,
  mlp,
  cnn,
  resnet,
  airbench,
  'imagenet-resnet': imagenetResnet,
  'mobilenet-v2': mobilenetV2,
  'mobilenet-v3': mobilenetV3,
  onnx,
  tfjs,
} as const;

/** An experiment's `model`: one of the types' settings, told apart by `type`. */
export const modelSettings = z.discriminatedUnion('type', [
  tutorial.settings,
  mlp.settings,
  cnn.settings,
  resnet.settings,
  airbench.settings,
  imagenetResnet.settings,
  mobilenetV2.settings,
  mobilenetV3.settings,
  onnx.settings,
  tfjs.settings,
]);
export type ModelSettings = z.infer<typeof modelSettings>;

/** The entry of `settings`'s type, typed for its settings. */
const typeOf = (settings: ModelSettings) =>
  MODEL_TYPES[settings.type] as unknown as ModelType<SettingsSchema, unknown, ModelSettings, unknown>;

/**
 * A model as its experiment describes it, over the training images: `parameters` (what the builder
 * would refuse throws its RangeError here, before anything is built), then `prepare` (what the
 * type needs from the data) and `build` as often as a model is wanted.
 */
export function modelOf(settings: ModelSettings, train: LabeledImages, inputShape: ImageShape = train.shape) {
  const type = typeOf(settings);
  const input: ModelInput = { inputShape, classes: train.classes.length };
  let read: { readonly value: unknown } | undefined;
  const readOnce = () => (read ??= { value: type.read?.(settings) }).value;
  return {
    parameters: () => type.check(settings, input, readOnce()),
    prepare: (transforms: readonly ImageTransform[]) =>
      type.prepare?.(settings, train, transforms, readOnce()) ?? Promise.resolve(undefined),
    build: (seed: number, prepared: unknown) => type.build(settings, { ...input, seed }, prepared),
    summary: () => type.summary?.(settings) ?? {},
    description: () => {
      const { type: name, ...rest } = settings;
      return type.describe?.(settings, input) ?? `${name} ${JSON.stringify(rest)} on ${inputShape.join('×')} → ${input.classes} classes`;
    },
  };
}
