import { type LayersModel, layers, sequential } from '@tensorflow/tfjs-layers';
import { checkClassifierOptions, checkWidths, type ClassifierOptions } from './classifier-options.js';
import { LayerSeeds } from './layer-seeds.js';

export interface MlpOptions extends ClassifierOptions {
  /** Widths of the hidden layers, each dense → ReLU (→ dropout). */
  readonly hidden: readonly number[];
}

/** A feed-forward network: flatten → (dense → ReLU → dropout)* → dense, giving logits. */
export function createMlp(options: MlpOptions): LayersModel {
  const { inputShape, classes, hidden, dropout = 0, seed = 43 } = options;
  checkClassifierOptions('createMlp', options);
  checkWidths('createMlp', 'hidden', hidden);
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
