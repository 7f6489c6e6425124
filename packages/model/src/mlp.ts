import { type LayersModel, layers, sequential } from '@tensorflow/tfjs-layers';
import { checkClassifierOptions, checkParameterCount, checkWidths, type ClassifierOptions } from './classifier-options.js';
import { LayerSeeds } from './layer-seeds.js';

export interface MlpOptions extends ClassifierOptions {
  /** Widths of the hidden layers, each dense → ReLU (→ dropout). */
  readonly hidden: readonly number[];
}

/** The parameters `createMlp` would make, or the RangeError it would throw, without building anything. */
export function checkMlpOptions(options: MlpOptions): number {
  checkClassifierOptions('createMlp', options);
  checkWidths('createMlp', 'hidden', options.hidden);
  const widths = [options.inputShape.reduce((a, b) => a * b, 1), ...options.hidden, options.classes];
  return checkParameterCount(
    'createMlp',
    widths.slice(1).reduce((sum, units, i) => sum + (widths[i]! + 1) * units, 0),
  );
}

/** A feed-forward network: flatten → (dense → ReLU → dropout)* → dense, giving logits. */
export function createMlp(options: MlpOptions): LayersModel {
  const { inputShape, classes, hidden, dropout = 0, seed = 43 } = options;
  checkMlpOptions(options);
  const seeds = new LayerSeeds(seed);
  const model = sequential({ name: 'mlp' });
  model.add(layers.flatten({ inputShape: [...inputShape] }));
  for (const units of hidden) {
    model.add(layers.dense({ units, activation: 'relu', kernelInitializer: seeds.heNormal() }));
    if (dropout > 0) model.add(layers.dropout({ rate: dropout, seed: seeds.layerSeed() }));
  }
  model.add(layers.dense({ units: classes, kernelInitializer: seeds.glorotUniform(), name: 'logits' }));
  return model;
}
