import { customGrad, div, fill, type GradSaveFunc, mean, mul, reshape, type Tensor, tidy } from '@tensorflow/tfjs-core';
import { layers } from '@tensorflow/tfjs-layers';

type Args = NonNullable<Parameters<typeof layers.globalAveragePooling2d>[0]>;
type Layer = ReturnType<typeof layers.globalAveragePooling2d>;

/**
 * tfjs-layers' global average pooling, whose gradient divides dy by H·W first and then spreads it
 * over the image. tfjs's Mean gradient multiplied the full-size dy by a tensor of ones it filled in
 * JavaScript (about 1 ms of a CIFAR ResNet's step for the ones alone), then divided it. The same
 * values (x·1/n = x/n). It saves and loads as tfjs-layers' GlobalAveragePooling2D.
 */
export function globalAveragePooling2d(args: Args = {}): Layer {
  return new (poolingClass())(args);
}

let poolingClassMade: (new (args: Args) => Layer) | undefined;

function poolingClass(): new (args: Args) => Layer {
  if (poolingClassMade) return poolingClassMade;
  const Base = Object.getPrototypeOf(layers.globalAveragePooling2d({ name: 'rxvision_class_probe' })).constructor as new (
    args: Args,
  ) => Layer;
  class GlobalAveragePooling2D extends Base {
    static readonly className = 'GlobalAveragePooling2D';

    override call(inputs: Tensor | Tensor[], kwargs: Record<string, unknown>): Tensor | Tensor[] {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const { dataFormat } = this as unknown as { dataFormat: string };
      if (dataFormat !== 'channelsLast' || x.rank !== 4) return super.call(inputs, kwargs as never);
      return tidy(() => spatialMean(x));
    }
  }
  poolingClassMade = GlobalAveragePooling2D;
  return poolingClassMade;
}

/** The mean over height and width of an NHWC batch. */
function spatialMean(x: Tensor): Tensor {
  const [batch, height, width, channels] = x.shape as [number, number, number, number];
  const op = customGrad((...args: (Tensor | GradSaveFunc)[]) => {
    const input = args[0] as Tensor;
    return {
      value: mean(input, [1, 2]),
      // Multiplied over a filled tensor rather than tiled: wasm's Tile took 38 ms of a 128 ms step.
      gradFunc: (dy: Tensor) => mul(fill([batch, height, width, 1], 1), div(reshape(dy, [batch, 1, 1, channels]), height * width)),
    };
  });
  return op(x) as Tensor;
}
