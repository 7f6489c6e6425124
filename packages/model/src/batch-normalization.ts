import {
  add,
  batchNorm,
  customGrad,
  engine,
  getBackend,
  getKernel,
  type GradSaveFunc,
  mean,
  mul,
  neg,
  rsqrt,
  scalar,
  squaredDifference,
  sub,
  sum,
  type Tensor,
  tidy,
} from '@tensorflow/tfjs-core';
import { layers } from '@tensorflow/tfjs-layers';
import { rectifiedTensors } from './rectified.js';

type BatchNormalizationArgs = NonNullable<Parameters<typeof layers.batchNormalization>[0]>;
type Layer = ReturnType<typeof layers.batchNormalization>;
type Kwargs = Record<string, unknown>;

/** What a training call reads of tfjs-layers' BatchNormalization (private there, public at run time). */
interface BatchNormalizationFields {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: { read(): Tensor };
  beta: { read(): Tensor };
  movingMean: { read(): Tensor; write(value: Tensor): void };
  movingVariance: { read(): Tensor; write(value: Tensor): void };
}

/**
 * tfjs-layers' batch normalisation, with its training step as one operation: the batch's mean and
 * variance and the normalisation forward, and the textbook gradient backward (eight full-size passes
 * in all). tfjs-layers builds it from `moments` and `batchNorm`, whose chained gradients take more
 * than twenty passes over the activations; on a small CIFAR ResNet that was a third of the step.
 * Inference, and every configuration other than the last axis with centre and scale, is
 * tfjs-layers' own. It saves and loads as tfjs-layers' BatchNormalization (same class name, same
 * weights), so a saved model needs nothing of rxvision to load.
 *
 * Where a model's ReLU (`reLU()`) is the only reader of this layer's output, `fuseReLU` lets the
 * training step rectify in the same pass where the backend's kernels take it (onednn's): the ReLU
 * layer then passes the rectified tensor on (see `rectifiedTensors`), and the gradient skips a pass
 * each way. It is not saved: a loaded model computes the same with its ReLU layer doing the work.
 */
export function batchNormalization(args: BatchNormalizationArgs = {}, { fuseReLU = false }: { fuseReLU?: boolean } = {}): Layer {
  const layer = new (fusedBatchNormalizationClass())(args);
  (layer as unknown as { fusesReLU: boolean }).fusesReLU = fuseReLU;
  return layer;
}

let fusedClass: (new (args: BatchNormalizationArgs) => Layer) | undefined;

/** Made on first use: tfjs-layers does not export its class, only a factory that makes instances. */
function fusedBatchNormalizationClass(): new (args: BatchNormalizationArgs) => Layer {
  if (fusedClass) return fusedClass;
  const Base = Object.getPrototypeOf(layers.batchNormalization({ name: 'rxvision_class_probe' })).constructor as new (
    args: BatchNormalizationArgs,
  ) => Layer;
  class FusedBatchNormalization extends Base {
    static readonly className = 'BatchNormalization';

    override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor | Tensor[] {
      const self = this as unknown as BatchNormalizationFields;
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const lastAxis = self.axis === -1 || self.axis === x.rank - 1;
      if (kwargs.training !== true || !lastAxis || !self.center || !self.scale || x.rank < 2) return super.call(inputs, kwargs as never);
      // As tfjs-layers does: moving ← moving − (moving − batch)·(1 − momentum).
      const updateMovingAverages = (batchMean: Tensor, variance: Tensor) => {
        for (const [variable, value] of [
          [self.movingMean, batchMean],
          [self.movingVariance, variance],
        ] as const) {
          tidy(() => {
            const moving = variable.read();
            variable.write(sub(moving, mul(sub(moving, value), 1 - self.momentum)));
          });
        }
      };
      const relu = (this as unknown as { fusesReLU?: boolean }).fusesReLU === true;
      return tidy(() => trainingBatchNorm(x, self.gamma.read(), self.beta.read(), self.epsilon, relu, updateMovingAverages));
    }
  }
  fusedClass = FusedBatchNormalization;
  return fusedClass;
}

/**
 * The kernels a backend may register to run the training step natively (@rxvision/backend's
 * onednn does): `training` takes {x, scale, offset} and returns [y, mean, variance] over every axis
 * but the last (the variance biased, as `moments`), y rectified where attrs.relu; `gradient` takes
 * {dy, x, scale, mean, variance} and, after a rectified step, `rectified` (that y: dy counts where
 * it is above 0), and returns [dx, dscale, doffset]; both take attrs {epsilon}. Where the backend
 * has neither, the step is computed from tfjs ops below.
 */
export const BATCH_NORM_KERNELS = { training: 'RxvisionBatchNormTraining', gradient: 'RxvisionBatchNormTrainingGrad' } as const;

/**
 * (x − mean)/√(variance + ε)·γ + β over every axis but the last, with the batch's own statistics,
 * which `onStatistics` sees while they exist (the forward pass disposes what it does not save).
 */
function trainingBatchNorm(
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  epsilon: number,
  relu: boolean,
  onStatistics: (mean: Tensor, variance: Tensor) => void,
): Tensor {
  const backend = getBackend();
  if (getKernel(BATCH_NORM_KERNELS.training, backend) && getKernel(BATCH_NORM_KERNELS.gradient, backend)) {
    const y = kernelBatchNorm(x, gamma, beta, epsilon, relu, onStatistics);
    if (relu) rectifiedTensors.add(y);
    return y;
  }
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
  const count = x.size / x.shape[x.rank - 1]!;
  const op = customGrad((...args: (Tensor | GradSaveFunc)[]) => {
    const [input, scale, offset, save] = args as [Tensor, Tensor, Tensor, GradSaveFunc];
    const batchMean = mean(input, axes);
    const variance = mean(squaredDifference(input, batchMean), axes);
    const reciprocalSigma = rsqrt(add(variance, scalar(epsilon)));
    const value = batchNorm(input, batchMean, variance, offset, scale, epsilon);
    onStatistics(batchMean, variance);
    save([input, batchMean, reciprocalSigma, scale]);
    return {
      value,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [xs, m, r, g] = saved as [Tensor, Tensor, Tensor, Tensor];
        const centred = sub(xs, m);
        const sumDy = sum(dy, axes);
        const sumDyCentred = sum(mul(dy, centred), axes);
        const k = mul(g, r);
        // dx = k·(dy − mean(dy) − x̂·mean(dy·x̂)), x̂ = (x − mean)·r, as one product and two sums:
        // k·dy + b·(x − mean) + c, with b = −k·r²·Σ(dy·(x − mean))/n and c = −k·Σdy/n.
        const b = neg(mul(mul(k, mul(r, r)), mul(sumDyCentred, scalar(1 / count))));
        const c = neg(mul(k, mul(sumDy, scalar(1 / count))));
        const dx = add(mul(dy, k), add(mul(centred, b), c));
        return [dx, mul(sumDyCentred, r), sumDy];
      },
    };
  });
  return op(x, gamma, beta) as Tensor;
}

/** The same step through the backend's own kernels (see BATCH_NORM_KERNELS), rectified in them where `relu`. */
function kernelBatchNorm(
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  epsilon: number,
  relu: boolean,
  onStatistics: (mean: Tensor, variance: Tensor) => void,
): Tensor {
  const op = customGrad((...args: (Tensor | GradSaveFunc)[]) => {
    const [input, scale, offset, save] = args as [Tensor, Tensor, Tensor, GradSaveFunc];
    const [value, batchMean, variance] = engine().runKernel(
      BATCH_NORM_KERNELS.training,
      { x: input, scale, offset },
      { epsilon, relu },
    ) as Tensor[];
    onStatistics(batchMean!, variance!);
    save([input, scale, batchMean!, variance!, ...(relu ? [value!] : [])]);
    return {
      value: value!,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [xs, g, m, v, rectified] = saved as [Tensor, Tensor, Tensor, Tensor, Tensor | undefined];
        const inputs = { dy, x: xs, scale: g, mean: m, variance: v, ...(rectified && { rectified }) };
        return engine().runKernel(BATCH_NORM_KERNELS.gradient, inputs, { epsilon }) as Tensor[];
      },
    };
  });
  return op(x, gamma, beta) as Tensor;
}
