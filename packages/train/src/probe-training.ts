import {
  engine,
  losses,
  oneHot,
  type Scalar,
  type Tensor,
  tensor1d,
  tidy,
  variableGrads,
  type Variable,
  zeros,
} from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

/**
 * One forward and backward pass of `model` on `batchSize` blank images (default two), computing
 * every gradient a training step needs and changing nothing. Run on a candidate backend, it fails
 * at once, with tfjs's "Kernel 'X' not registered" error, if that backend cannot train the model;
 * at the batch size training will use, with the backend's error if a step does not fit its memory.
 */
export function probeTraining(model: LayersModel, batchSize = 2): void {
  const [, ...imageShape] = model.inputs[0]!.shape as number[];
  const classes = (model.outputs[0]!.shape as number[]).at(-1)!;
  try {
    tidy(() => {
      const xs = zeros([batchSize, ...imageShape]);
      const labels = Array.from({ length: batchSize }, (_, row) => row % classes);
      const targets = oneHot(tensor1d(labels, 'int32'), classes);
      const weights = model.trainableWeights.map((weight) => weight.read() as Variable);
      variableGrads(() => losses.softmaxCrossEntropy(targets, model.apply(xs, { training: true }) as Tensor) as Scalar, weights);
    });
  } catch (error) {
    releaseTape();
    throw error;
  }
}

/**
 * tfjs keeps the tensors a backward pass needs on its tape and frees them only when the pass
 * completes: after a pass that failed (out of memory, say), they would stay allocated for good.
 */
function releaseTape(): void {
  const state = (engine() as unknown as { state: { activeTape: { saved?: Tensor[] }[] | null; gradientDepth: number } }).state;
  if (state.gradientDepth !== 0) return; // inside someone else's gradient: theirs to clean
  for (const node of state.activeTape ?? []) for (const tensor of node.saved ?? []) tensor.dispose();
  state.activeTape = null;
}
