import { add, clone, engine, mul, type NamedTensorMap, Optimizer, type Scalar, scalar, type Tensor, tidy, train, Variable } from '@tensorflow/tfjs-core';

/** A tensor with its variable's name, as optimizers take and give them (tfjs-core does not export the type). */
interface NamedTensor {
  name: string;
  tensor: Tensor;
}

/** An optimizer described as data, so an experiment file can hold it. */
export type OptimizerSpec =
  | {
      readonly type: 'sgd';
      /** 0 (default) for plain SGD, as in the tutorial. */
      readonly momentum?: number;
      readonly nesterov?: boolean;
      /** L2 penalty added to each gradient, as PyTorch's SGD `weight_decay`. */
      readonly weightDecay?: number;
    }
  | {
      /** `adamw`: weight decay decoupled from the gradient (Loshchilov & Hutter); `adam`: added to it. */
      readonly type: 'adam' | 'adamw';
      readonly beta1?: number;
      readonly beta2?: number;
      readonly epsilon?: number;
      readonly weightDecay?: number;
    };

/** The tutorial's optimizer. */
export const PLAIN_SGD: OptimizerSpec = { type: 'sgd' };

/**
 * A tfjs optimizer whose learning rate is set step by step, with weight decay, made from a spec.
 * One lives for a whole run, so Adam's moments and SGD's momentum carry across schedule phases;
 * its `getWeights()` is what a checkpoint saves and `setWeights()` what resume restores.
 */
export class TrainingOptimizer extends Optimizer {
  static readonly className = 'RxvisionTrainingOptimizer';
  private readonly inner: Optimizer;
  private rate: number;
  private decay: Scalar | undefined;

  constructor(
    readonly spec: OptimizerSpec,
    learningRate: number,
  ) {
    super();
    checkSpec(spec);
    this.rate = learningRate;
    this.inner =
      spec.type === 'sgd'
        ? spec.momentum
          ? train.momentum(learningRate, spec.momentum, spec.nesterov ?? false)
          : train.sgd(learningRate)
        : train.adam(learningRate, spec.beta1 ?? 0.9, spec.beta2 ?? 0.999, spec.epsilon ?? 1e-8);
  }

  get learningRate(): number {
    return this.rate;
  }

  setLearningRate(rate: number): void {
    if (rate === this.rate) return;
    this.rate = rate;
    const inner = this.inner as unknown as { setLearningRate?(rate: number): void; learningRate: number };
    if (inner.setLearningRate) inner.setLearningRate(rate); // SGD and momentum
    else inner.learningRate = rate; // tfjs's Adam reads this field at each step and has no setter
    this.decay?.dispose();
    this.decay = undefined;
  }

  override applyGradients(gradients: NamedTensorMap | NamedTensor[]): void {
    const weightDecay = this.spec.weightDecay ?? 0;
    if (weightDecay === 0) return this.inner.applyGradients(gradients);
    const named = Array.isArray(gradients) ? gradients : Object.entries(gradients).map(([name, tensor]) => ({ name, tensor }));
    const variable = (name: string) => engine().registeredVariables[name] as Variable;
    if (this.spec.type === 'adamw') {
      // w ← w·(1 − rate·decay), then Adam's step on the plain gradient.
      this.decay ??= scalar(1 - this.rate * weightDecay);
      const keep = this.decay;
      for (const { name } of named) {
        const weights = variable(name);
        tidy(() => weights.assign(mul(weights, keep)));
      }
      return this.inner.applyGradients(named);
    }
    const decayed = named.map(({ name, tensor }) => ({ name, tensor: tidy(() => add(tensor, mul(variable(name), weightDecay))) }));
    this.inner.applyGradients(decayed);
    for (const { tensor } of decayed) tensor.dispose();
  }

  /** Copies of the state (tfjs's optimizers hand out their live variables): the caller disposes them. */
  override async getWeights(): Promise<NamedTensor[]> {
    return (await this.inner.getWeights()).map(({ name, tensor }) => ({ name, tensor: tensor instanceof Variable ? clone(tensor) : tensor }));
  }

  override async setWeights(weights: NamedTensor[]): Promise<void> {
    await this.inner.setWeights(weights);
  }

  override getConfig() {
    return { ...this.spec, learningRate: this.rate };
  }

  override dispose(): void {
    this.inner.dispose();
    // tfjs 4.22's MomentumOptimizer.dispose forgets its SGD parent's learning-rate scalar.
    const rate = (this.inner as unknown as { c?: Tensor }).c;
    if (rate && !rate.isDisposed) rate.dispose();
    this.decay?.dispose();
    super.dispose();
  }
}

function checkSpec(spec: OptimizerSpec): void {
  const check = (name: string, value: number | undefined, ok: (v: number) => boolean, range: string) => {
    if (value !== undefined && !ok(value)) throw new RangeError(`optimizer ${spec.type}: ${name} must be ${range}, got ${value}`);
  };
  if (spec.type !== 'sgd' && spec.type !== 'adam' && spec.type !== 'adamw') throw new RangeError(`optimizer type must be sgd, adam or adamw, got ${String((spec as { type: unknown }).type)}`);
  check('weightDecay', spec.weightDecay, (v) => v >= 0, '≥ 0');
  if (spec.type === 'sgd') {
    check('momentum', spec.momentum, (v) => v >= 0 && v < 1, 'in [0, 1)');
    if (spec.nesterov && !spec.momentum) throw new RangeError('optimizer sgd: nesterov needs a momentum above 0');
  } else {
    check('beta1', spec.beta1, (v) => v >= 0 && v < 1, 'in [0, 1)');
    check('beta2', spec.beta2, (v) => v >= 0 && v < 1, 'in [0, 1)');
    check('epsilon', spec.epsilon, (v) => v > 0, '> 0');
  }
}
