import { conv2d as convolve, type Tensor, type Tensor4D, tidy } from '@tensorflow/tfjs-core';
import { layers } from '@tensorflow/tfjs-layers';

type Conv2DArgs = Parameters<typeof layers.conv2d>[0];
type Layer = ReturnType<typeof layers.conv2d>;

/** What a call reads of tfjs-layers' Conv2D (private there, public at run time). */
interface Conv2DFields {
  rank: number;
  bias: unknown;
  activation: { getClassName(): string };
  dataFormat: string;
  padding: string;
  strides: [number, number];
  dilationRate: [number, number];
  kernel: { read(): Tensor };
}

/**
 * tfjs-layers' 2-D convolution. Without bias or activation it calls tfjs's conv2d rather than
 * fused.conv2d, whose gradient (a customGrad) computes the input's gradient whether or not
 * anything needs it: for a network's first trainable convolution, whose input is the batch, that
 * was a whole backward convolution wasted each step (2.4 ms of a CIFAR ResNet's 128 ms; not
 * airbench's, whose whitening bias trains). conv2d's own gradient is computed only where needed.
 * The same kernels otherwise; it saves and loads as tfjs-layers' Conv2D.
 */
export function conv2d(args: Conv2DArgs): Layer {
  return new (plainConv2DClass())(args);
}

let plainClass: (new (args: Conv2DArgs) => Layer) | undefined;

/** Made on first use: tfjs-layers does not export its class, only a factory that makes instances. */
function plainConv2DClass(): new (args: Conv2DArgs) => Layer {
  if (plainClass) return plainClass;
  const probe = layers.conv2d({ filters: 1, kernelSize: 1, name: 'rxvision_class_probe' });
  const Base = Object.getPrototypeOf(probe).constructor as new (args: Conv2DArgs) => Layer;
  class PlainConv2D extends Base {
    static readonly className = 'Conv2D';

    override call(inputs: Tensor | Tensor[], kwargs: Record<string, unknown>): Tensor | Tensor[] {
      const self = this as unknown as Conv2DFields;
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const plain =
        self.rank === 2 &&
        self.bias == null &&
        self.activation.getClassName() === 'linear' &&
        self.dataFormat === 'channelsLast' &&
        (self.padding === 'same' || self.padding === 'valid') &&
        self.dilationRate.every((rate) => rate === 1) &&
        x.rank === 4;
      if (!plain) return super.call(inputs, kwargs as never);
      return tidy(() => convolve(x as Tensor4D, self.kernel.read() as Tensor4D, self.strides, self.padding as 'same' | 'valid'));
    }
  }
  plainClass = PlainConv2D;
  return plainClass;
}
