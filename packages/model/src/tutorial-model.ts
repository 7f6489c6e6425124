import type { LayersModel } from '@tensorflow/tfjs-layers';
import { initializers, layers, sequential } from '@tensorflow/tfjs-layers';

export interface TutorialModelOptions {
  /**
   * The tutorial applies ReLU to the last layer too, so its "logits" are never negative: a class
   * can only be favoured, never disfavoured, and every score below zero collapses to 0 (ties at
   * the floor). It still trains, which is why it stays the default; set false for plain logits.
   */
  readonly outputRelu?: boolean;
  /** Seeds the initial weights; the same seed gives the same weights on every backend. */
  readonly seed?: number;
  readonly inputShape?: readonly [number, number, number];
  readonly classes?: number;
}

/** Hidden widths of the tutorial's network: 3072 → 1650 → 512 → 138 → 10. */
export const TUTORIAL_HIDDEN_UNITS = [1650, 512, 138] as const;

/**
 * The CIFAR-10 tutorial's feed-forward network, initialised like PyTorch's `nn.Linear`:
 * weights and biases uniform in ±1/√fan_in.
 */
export function createTutorialModel(options: TutorialModelOptions = {}): LayersModel {
  const { outputRelu = true, seed = 43, inputShape = [32, 32, 3], classes = 10 } = options;
  const model = sequential({ name: 'cifar10_tutorial' });
  model.add(layers.flatten({ inputShape: [...inputShape], name: 'flatten' }));
  let fanIn = inputShape[0] * inputShape[1] * inputShape[2];
  const widths = [...TUTORIAL_HIDDEN_UNITS, classes];
  widths.forEach((units, index) => {
    const last = index === widths.length - 1;
    model.add(
      layers.dense({
        units,
        activation: last && !outputRelu ? 'linear' : 'relu',
        kernelInitializer: torchLinearUniform(fanIn, seed + 2 * index),
        biasInitializer: torchLinearUniform(fanIn, seed + 2 * index + 1),
        name: `dense_${index + 1}`,
      }),
    );
    fanIn = units;
  });
  return model;
}

function torchLinearUniform(fanIn: number, seed: number) {
  const bound = 1 / Math.sqrt(fanIn);
  return initializers.randomUniform({ minval: -bound, maxval: bound, seed });
}
