import {
  add,
  type FusedBatchNormAttrs,
  type GradConfig,
  mul,
  neg,
  registerGradient,
  rsqrt,
  scalar,
  sub,
  sum,
  type Tensor,
} from '@tensorflow/tfjs-core';

/**
 * Replaces tfjs-core 4.22's gradient of FusedBatchNorm, which tiles 1/σ to the input's full shape
 * and spends about a dozen full-size passes where these need four: dy·k for x, and the sums of dy
 * and of dy·(x − mean) over every axis but the channels for the rest (k = scale/σ). Measured on a
 * small CIFAR ResNet on onnxruntime: the step went from 4.4 s to 1.8 s, Tile having taken 2.2 s.
 * Gradients are global in tfjs, not per backend, so this applies to every backend.
 */
export function useLeanBatchNormGradient(): void {
  registerGradient(leanBatchNormGradient);
}

const leanBatchNormGradient: GradConfig = {
  kernelName: 'FusedBatchNorm',
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy, saved, attrs) => {
    const { varianceEpsilon } = attrs as unknown as FusedBatchNormAttrs;
    const [x, mean, variance, scale] = saved as [Tensor, Tensor, Tensor, Tensor | undefined];
    const gradient = dy as Tensor;
    // Statistics have the channels' shape (rank 1) or the input's (then nothing is summed).
    const axes = Array.from({ length: x.rank - mean.rank }, (_, i) => i);
    const reciprocalSigma = rsqrt(add(variance, scalar(varianceEpsilon)));
    const k = scale == null ? reciprocalSigma : mul(reciprocalSigma, scale);
    // mean and offset need one sum, variance and scale the other. Taken here, once: each gradient
    // below runs in a tidy scope of its own, which would dispose a sum one of them cached.
    const sumDy = sum(gradient, axes);
    const sumDyCentred = sum(mul(gradient, sub(x, mean)), axes);
    return {
      x: () => mul(gradient, k),
      mean: () => neg(mul(k, sumDy)),
      variance: () => mul(mul(k, mul(reciprocalSigma, reciprocalSigma)), mul(scalar(-0.5), sumDyCentred)),
      scale: () => mul(reciprocalSigma, sumDyCentred),
      offset: () => sumDy,
    };
  },
};
