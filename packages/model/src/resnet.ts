import { reLU } from './activation.js';
import { input, type LayersModel, layers, model, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import {
  batchNormMomentumOf,
  type BatchNormOptions,
  checkClassifierOptions,
  checkParameterCount,
  checkWidths,
  type ClassifierOptions,
} from './classifier-options.js';
import { batchNormalization } from './batch-normalization.js';
import { LayerSeeds } from './layer-seeds.js';
import { conv2d } from './convolution.js';
import { globalAveragePooling2d } from './global-average-pooling.js';

export interface ResNetOptions extends ClassifierOptions, BatchNormOptions {
  /** Filters of each stage; every stage after the first starts with stride 2. */
  readonly stages: readonly number[];
  /** Residual blocks per stage (default 2). */
  readonly blocksPerStage?: number;
  /** Filters of the 3×3 stem convolution (default: the first stage's). */
  readonly stemFilters?: number;
}

/** The parameters `createResNet` would make, or the RangeError it would throw, without building anything. */
export function checkResNetOptions(options: ResNetOptions): number {
  const { inputShape, classes, stages, blocksPerStage = 2 } = options;
  const stemFilters = options.stemFilters ?? stages[0]!;
  checkClassifierOptions('createResNet', options);
  batchNormMomentumOf('createResNet', options);
  checkWidths('createResNet', 'stages', stages);
  checkWidths('createResNet', 'blocksPerStage', [blocksPerStage]);
  checkWidths('createResNet', 'stemFilters', [stemFilters]);
  // Convolutions 3×3 without bias, each followed by batch norm (4 per channel); 1×1 shortcuts where the shape changes.
  let parameters = 9 * inputShape[2] * stemFilters + 4 * stemFilters;
  let channels = stemFilters;
  stages.forEach((filters, stage) => {
    for (let block = 0; block < blocksPerStage; block++) {
      parameters += 9 * channels * filters + 9 * filters * filters + 8 * filters;
      if ((stage > 0 && block === 0) || channels !== filters) parameters += channels * filters + 4 * filters;
      channels = filters;
    }
  });
  return checkParameterCount('createResNet', parameters + (channels + 1) * classes);
}

/**
 * A small residual network for small images (ResNet-18's shape, shrunk): a 3×3 stem, stages of
 * basic blocks (conv 3×3 → BN → ReLU → conv 3×3 → BN, plus the input, → ReLU; a 1×1 convolution
 * on the shortcut where the shape changes), global average pooling and a dense layer giving logits.
 */
export function createResNet(options: ResNetOptions): LayersModel {
  const { inputShape, classes, stages, blocksPerStage = 2, dropout = 0, seed = 43 } = options;
  const stemFilters = options.stemFilters ?? stages[0]!;
  checkResNetOptions(options);
  const momentum = batchNormMomentumOf('createResNet', options);
  const seeds = new LayerSeeds(seed);
  const convolution = (x: SymbolicTensor, filters: number, kernelSize: number, strides: number) =>
    conv2d({ filters, kernelSize, strides, padding: 'same', useBias: false, kernelInitializer: seeds.heNormal() }).apply(
      x,
    ) as SymbolicTensor;
  const normalised = (x: SymbolicTensor) => batchNormalization({ momentum }).apply(x) as SymbolicTensor;
  const relu = (x: SymbolicTensor) => reLU().apply(x) as SymbolicTensor;
  // Batch norm then ReLU, the ReLU its only reader: rectified in the same pass while training.
  const normalisedReLU = (x: SymbolicTensor) => relu(batchNormalization({ momentum }, { fuseReLU: true }).apply(x) as SymbolicTensor);

  const images = input({ shape: [...inputShape] });
  let x = normalisedReLU(convolution(images, stemFilters, 3, 1));
  let channels = stemFilters;
  stages.forEach((filters, stage) => {
    for (let block = 0; block < blocksPerStage; block++) {
      const strides = stage > 0 && block === 0 ? 2 : 1;
      const branch = normalised(convolution(normalisedReLU(convolution(x, filters, 3, strides)), filters, 3, 1));
      const shortcut = strides === 1 && channels === filters ? x : normalised(convolution(x, filters, 1, strides));
      x = relu(layers.add().apply([branch, shortcut]) as SymbolicTensor);
      channels = filters;
    }
  });
  x = globalAveragePooling2d({}).apply(x) as SymbolicTensor;
  if (dropout > 0) x = layers.dropout({ rate: dropout, seed: seeds.layerSeed() }).apply(x) as SymbolicTensor;
  const logits = layers.dense({ units: classes, kernelInitializer: seeds.glorotUniform(), name: 'logits' }).apply(x) as SymbolicTensor;
  return model({ inputs: images, outputs: logits, name: 'resnet' });
}
