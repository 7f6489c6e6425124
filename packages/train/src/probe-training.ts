import { losses, oneHot, type Scalar, type Tensor, tensor1d, tidy, variableGrads, type Variable, zeros } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

/**
 * One forward and backward pass of `model` on two blank images, computing every gradient a
 * training step needs and changing nothing. Run on a candidate backend, it fails at once, with
 * tfjs's "Kernel 'X' not registered" error, if that backend cannot train the model.
 */
export function probeTraining(model: LayersModel): void {
  const [, ...imageShape] = model.inputs[0]!.shape as number[];
  const classes = (model.outputs[0]!.shape as number[]).at(-1)!;
  tidy(() => {
    const xs = zeros([2, ...imageShape]);
    const targets = oneHot(tensor1d([0, Math.min(1, classes - 1)], 'int32'), classes);
    const weights = model.trainableWeights.map((weight) => weight.read() as Variable);
    variableGrads(() => losses.softmaxCrossEntropy(targets, model.apply(xs, { training: true }) as Tensor) as Scalar, weights);
  });
}
