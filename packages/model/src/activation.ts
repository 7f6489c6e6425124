import {
  add,
  customGrad,
  engine,
  erf,
  exp,
  getBackend,
  getKernel,
  type GradSaveFunc,
  mul,
  square,
  type Tensor,
  tidy,
} from '@tensorflow/tfjs-core';
import { layers } from '@tensorflow/tfjs-layers';
import { rectifiedTensors } from './rectified.js';

type ActivationArgs = Parameters<typeof layers.activation>[0];
type Layer = ReturnType<typeof layers.activation>;
type Kwargs = Record<string, unknown>;

/**
 * The kernels a backend may register to compute an activation and its gradient in one pass each
 * (@rxvision/backend's onednn does): `forward` takes {x} and returns y; `gradient` takes {dy, x}
 * and returns dx = dy·f'(x); both take attrs {activation}, one of NATIVE_ACTIVATIONS.
 */
export const ACTIVATION_KERNELS = { forward: 'RxvisionActivation', gradient: 'RxvisionActivationGrad' } as const;

/** tfjs-layers' names of the activations those kernels compute (swish is SiLU, x·σ(x); GELU the erf form). */
export const NATIVE_ACTIVATIONS = ['gelu', 'relu', 'sigmoid', 'tanh', 'swish'] as const;

/**
 * tfjs-layers' Activation layer, whose function runs as one kernel forward and one backward where
 * the backend has ACTIVATION_KERNELS. Elsewhere GELU's gradient is written out, dy·(Φ(x) + x·φ(x))
 * from the Φ saved forward, rather than chained back through erf, a quotient and two products; every
 * other activation is tfjs-layers' own. On airbench's network GELU built from tfjs ops took about
 * 600 ms of a 2.4 s step. It saves and loads as tfjs-layers' Activation.
 */
export function activation(args: ActivationArgs): Layer {
  return new (fusedActivationClass())(args);
}

let fusedClass: (new (args: ActivationArgs) => Layer) | undefined;

/** Made on first use: tfjs-layers exports a factory, not the class. */
function fusedActivationClass(): new (args: ActivationArgs) => Layer {
  if (fusedClass) return fusedClass;
  const Base = Object.getPrototypeOf(layers.activation({ activation: 'linear', name: 'rxvision_class_probe' })).constructor as new (
    args: ActivationArgs,
  ) => Layer;
  class FusedActivation extends Base {
    static readonly className = 'Activation';

    override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor | Tensor[] {
      const name = (this as unknown as { activation: { getClassName(): string } }).activation.getClassName();
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      if (hasActivationKernels() && (NATIVE_ACTIVATIONS as readonly string[]).includes(name)) return kernelActivation(x, name);
      if (name === 'gelu') return gelu(x);
      return super.call(inputs, kwargs as never);
    }
  }
  fusedClass = FusedActivation;
  return fusedClass;
}

type ReLUArgs = NonNullable<Parameters<typeof layers.reLU>[0]>;
type ReLULayer = ReturnType<typeof layers.reLU>;
let reLUClass: (new (args: ReLUArgs) => ReLULayer) | undefined;

/**
 * tfjs-layers' ReLU layer, run as ACTIVATION_KERNELS' relu where the backend has them: its gradient
 * then one pass, where tfjs chains Step, Cast and Multiply (130 ms of ResNet-18's step at 224 px on
 * wasm's kernels). A ReLU with a maxValue (ReLU6) is tfjs-layers' own. Its input rectified already
 * (a batch norm's that fused it: `rectifiedTensors`) it passes on. It saves and loads as ReLU.
 */
export function reLU(args: ReLUArgs = {}): ReLULayer {
  if (!reLUClass) {
    const Base = Object.getPrototypeOf(layers.reLU({ name: 'rxvision_relu_probe' })).constructor as new (args: ReLUArgs) => ReLULayer;
    reLUClass = class KernelReLU extends Base {
      static readonly className = 'ReLU';

      override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor | Tensor[] {
        const x = Array.isArray(inputs) ? inputs[0]! : inputs;
        const capped = (this as unknown as { maxValue?: number | null }).maxValue != null;
        // The tensor itself: an Identity's gradient would cast, a copy each step (3 ms of a VGG-style CNN's).
        if (!capped && rectifiedTensors.has(x)) return x;
        if (!capped && hasActivationKernels()) return kernelActivation(x, 'relu');
        return super.call(inputs, kwargs as never);
      }
    };
  }
  return new reLUClass(args);
}

function hasActivationKernels(): boolean {
  const backend = getBackend();
  return Boolean(getKernel(ACTIVATION_KERNELS.forward, backend) && getKernel(ACTIVATION_KERNELS.gradient, backend));
}

function kernelActivation(x: Tensor, name: string): Tensor {
  const op = customGrad((...args: (Tensor | GradSaveFunc)[]) => {
    const [input, save] = args as [Tensor, GradSaveFunc];
    save([input]);
    return {
      value: engine().runKernel(ACTIVATION_KERNELS.forward, { x: input }, { activation: name }) as Tensor,
      gradFunc: (dy: Tensor, [saved]: Tensor[]) =>
        engine().runKernel(ACTIVATION_KERNELS.gradient, { dy, x: saved! }, { activation: name }) as Tensor,
    };
  });
  return op(x) as Tensor;
}

/** x·Φ(x), Φ the normal distribution function, as tfjs-layers' gelu; its gradient by hand. */
function gelu(x: Tensor): Tensor {
  const op = customGrad((...args: (Tensor | GradSaveFunc)[]) => {
    const [input, save] = args as [Tensor, GradSaveFunc];
    const cdf = mul(0.5, add(1, erf(mul(input, Math.SQRT1_2))));
    save([input, cdf]);
    return {
      value: mul(input, cdf),
      gradFunc: (dy: Tensor, [xs, phi]: Tensor[]) =>
        tidy(() => mul(dy, add(phi!, mul(xs!, mul(exp(mul(square(xs!), -0.5)), 1 / Math.sqrt(2 * Math.PI)))))),
    };
  });
  return op(x) as Tensor;
}
