import { reLU } from './activation.js';
import { type LayersModel, layers, sequential } from '@tensorflow/tfjs-layers';
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

export interface CnnOptions extends ClassifierOptions, BatchNormOptions {
  /** Filters of each block; every block ends with a 2×2 max pool, halving height and width. */
  readonly blocks: readonly number[];
  /** Convolutions per block (default 1), each 3×3 'same' → batch norm → ReLU. */
  readonly convolutionsPerBlock?: number;
  /** Batch normalisation after each convolution (default true). */
  readonly batchNorm?: boolean;
}

/** The parameters `createCnn` would make, or the RangeError it would throw, without building anything. */
export function checkCnnOptions(options: CnnOptions): number {
  const { inputShape, classes, blocks, convolutionsPerBlock = 1, batchNorm = true } = options;
  checkClassifierOptions('createCnn', options);
  batchNormMomentumOf('createCnn', options);
  checkWidths('createCnn', 'blocks', blocks);
  checkWidths('createCnn', 'convolutionsPerBlock', [convolutionsPerBlock]);
  const [height, width, channels] = inputShape;
  if (Math.min(height, width) < 2 ** blocks.length)
    throw new RangeError(
      `createCnn: ${blocks.length} blocks halve ${height}×${width} images below one pixel; use at most ${Math.floor(Math.log2(Math.min(height, width)))}`,
    );
  let parameters = 0;
  let previous = channels;
  for (const filters of blocks) {
    for (let i = 0; i < convolutionsPerBlock; i++, previous = filters) parameters += 9 * previous * filters + (batchNorm ? 4 : 1) * filters;
  }
  return checkParameterCount('createCnn', parameters + (previous + 1) * classes);
}

/**
 * A plain CNN: blocks of (conv 3×3 → batch norm → ReLU) × n → max pool 2, then global average
 * pooling, dropout and a dense layer giving logits.
 */
export function createCnn(options: CnnOptions): LayersModel {
  const { inputShape, classes, blocks, convolutionsPerBlock = 1, batchNorm = true, dropout = 0, seed = 43 } = options;
  checkCnnOptions(options);
  const momentum = batchNormMomentumOf('createCnn', options);
  const seeds = new LayerSeeds(seed);
  const model = sequential({ name: 'cnn' });
  blocks.forEach((filters, block) => {
    for (let i = 0; i < convolutionsPerBlock; i++) {
      const first = block === 0 && i === 0;
      model.add(
        conv2d({
          ...(first && { inputShape: [...inputShape] }),
          filters,
          kernelSize: 3,
          padding: 'same',
          useBias: !batchNorm,
          kernelInitializer: seeds.heNormal(),
        }),
      );
      // The ReLU is its only reader: rectified in the same pass while training.
      if (batchNorm) model.add(batchNormalization({ momentum }, { fuseReLU: true }));
      model.add(reLU());
    }
    model.add(layers.maxPooling2d({ poolSize: 2 }));
  });
  model.add(globalAveragePooling2d({}));
  if (dropout > 0) model.add(layers.dropout({ rate: dropout, seed: seeds.layerSeed() }));
  model.add(layers.dense({ units: classes, kernelInitializer: seeds.glorotUniform(), name: 'logits' }));
  return model;
}
