import type { Tensor } from '@tensorflow/tfjs-core';

/**
 * Outputs of a batch norm that fused its ReLU in training: the ReLU layer after it passes these on
 * as they are. Held weakly, so that a disposed step's tensors go.
 */
export const rectifiedTensors = new WeakSet<Tensor>();
