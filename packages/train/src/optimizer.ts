// Over 250 lines: one optimizer class (SGD, Nesterov, Adam, AdamW, parameter groups) whose state must
// round-trip to the bit.
import {
  add,
  clone,
  engine,
  mul,
  type NamedTensorMap,
  Optimizer,
  type Scalar,
  scalar,
  sub,
  type Tensor,
  tidy,
  train,
  Variable,
} from '@tensorflow/tfjs-core';
import { clipGradients, type GradientClipping } from './gradient-clipping.js';

/** A tensor with its variable's name, as optimizers take and give them (tfjs-core does not export the type). */
interface NamedTensor {
  name: string;
  tensor: Tensor;
}

/** An optimizer described as data, so an experiment file can hold it (clipping with every type). */
export type OptimizerSpec = GradientClipping &
  (
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
      }
  );

/**
 * Settings for some of a model's weights (airbench trains batch-norm biases at 64 times the
 * learning rate, and its whitening layer's bias for three epochs only). A weight takes the first
 * group whose `match` it matches; the others keep the optimizer's settings.
 */
export interface ParameterGroup {
  /** A regular expression on the weight's name, `LAYER/WEIGHT` (`/beta$`: every batch-norm bias; `^whiten/bias$`). */
  readonly match: string;
  /** Multiplies the learning rate for these weights, with every optimizer (a lower rate for a pretrained body). */
  readonly learningRateScale?: number;
  /** Their weight decay, instead of the optimizer's. */
  readonly weightDecay?: number;
  /** Trained in the first N epochs only, then left as they are (no step, no decay). */
  readonly epochs?: number;
  /**
   * Left as they are for the first N epochs, then trained: a pretrained body frozen while a new
   * head learns, as fastai's `fine_tune` does. Batch norms whose weights are all frozen normalise
   * with their running statistics meanwhile, and leave them as they are.
   */
  readonly frozenEpochs?: number;
}

/** The names Adam's bias-correction powers travel under in an optimizer's state (a checkpoint's optimizer.bin). */
export const BIAS_CORRECTION_POWERS = ['rxvision/beta1Power', 'rxvision/beta2Power'];

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
  /** 1 − rate·decay for AdamW, per decay, until the rate changes. */
  private readonly keep = new Map<number, Scalar>();
  /** The group of each variable that has one, by variable name. */
  private groups = new Map<string, ParameterGroup>();
  private epoch = 1;

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
    if (inner.setLearningRate)
      inner.setLearningRate(rate); // SGD and momentum
    else inner.learningRate = rate; // tfjs's Adam reads this field at each step and has no setter
    this.forgetKeep();
  }

  /**
   * Gives the variables (by name) their groups (`parameterGroups` of fit matches them by the
   * weights' names).
   */
  setGroups(groups: ReadonlyMap<string, ParameterGroup>): void {
    for (const group of groups.values()) checkGroup(this.spec, group);
    this.groups = new Map(groups);
  }

  /** The epoch (1-based) the next steps belong to: groups with `epochs` stop after theirs. */
  setEpoch(epoch: number): void {
    this.epoch = epoch;
  }

  private forgetKeep(): void {
    for (const scalar of this.keep.values()) scalar.dispose();
    this.keep.clear();
  }

  override applyGradients(gradients: NamedTensorMap | NamedTensor[]): void {
    const named = Array.isArray(gradients) ? gradients : Object.entries(gradients).map(([name, tensor]) => ({ name, tensor }));
    const clipped = clipGradients(named, this.spec, (name) => !this.isFrozen(name));
    try {
      this.applyClipped(clipped.gradients);
    } finally {
      for (const tensor of clipped.made) tensor.dispose();
    }
  }

  private applyClipped(all: NamedTensor[]): void {
    const weightDecay = this.spec.weightDecay ?? 0;
    if (weightDecay === 0 && this.groups.size === 0) return this.inner.applyGradients(all);
    const variable = (name: string) => engine().registeredVariables[name] as Variable;
    // tfjs's optimizers keep their state (momentum, moments) by a variable's place in the list, so
    // every variable stays in it: a group past its epochs is stepped like the others and then put back.
    const frozen = all
      .filter(({ name }) => this.isFrozen(name))
      .map(({ name }) => ({ weights: variable(name), kept: clone(variable(name)) }));
    try {
      this.applyWithGroups(all, weightDecay, variable);
    } finally {
      for (const { weights, kept } of frozen) {
        weights.assign(kept);
        kept.dispose();
      }
    }
  }

  /** Whether the variable `name` is left as it is in the current epoch (its group's `epochs` or `frozenEpochs`). */
  isFrozen(name: string): boolean {
    const group = this.groups.get(name);
    if (!group) return false;
    return (
      (group.epochs !== undefined && this.epoch > group.epochs) || (group.frozenEpochs !== undefined && this.epoch <= group.frozenEpochs)
    );
  }

  private applyWithGroups(named: NamedTensor[], weightDecay: number, variable: (name: string) => Variable): void {
    const decayOf = (name: string) => (this.isFrozen(name) ? 0 : (this.groups.get(name)?.weightDecay ?? weightDecay));
    const scaleOf = (name: string) => this.groups.get(name)?.learningRateScale ?? 1;
    const sgd = this.spec.type === 'sgd';
    if (this.spec.type === 'adamw') {
      // w ← w·(1 − scale·rate·decay), then Adam's step on the plain gradient.
      for (const { name } of named) {
        const decay = decayOf(name) * scaleOf(name);
        if (decay === 0) continue;
        if (!this.keep.has(decay)) this.keep.set(decay, scalar(1 - this.rate * decay));
        const weights = variable(name);
        const keep = this.keep.get(decay)!;
        tidy(() => weights.assign(mul(weights, keep)));
      }
    }
    // SGD's and Adam's L2 decay is added to the gradient. SGD's learning-rate scale multiplies the
    // sum, which (momentum too: its buffer is linear in what it is fed) scales the step; Adam's
    // step does not follow its gradient's size, so a scaled weight is moved back from where
    // Adam's step put it to `scale` of the way, as a group's learning rate does in PyTorch.
    const adjusted = named.map(({ name, tensor }) => {
      const decay = this.spec.type === 'adamw' ? 0 : decayOf(name);
      const scale = sgd ? scaleOf(name) : 1;
      if (decay === 0 && scale === 1) return { name, tensor, made: false };
      return {
        name,
        tensor: tidy(() => {
          const decayed = decay === 0 ? tensor : add(tensor, mul(variable(name), decay));
          return scale === 1 ? decayed : mul(decayed, scale);
        }),
        made: true,
      };
    });
    const scaled = sgd
      ? []
      : named
          .filter(({ name }) => scaleOf(name) !== 1 && !this.isFrozen(name))
          .map(({ name }) => ({ weights: variable(name), before: clone(variable(name)), scale: scaleOf(name) }));
    try {
      this.inner.applyGradients(adjusted.map(({ name, tensor }) => ({ name, tensor })));
      for (const { weights, before, scale } of scaled) tidy(() => weights.assign(add(before, mul(sub(weights, before), scale))));
    } finally {
      for (const { tensor, made } of adjusted) if (made) tensor.dispose();
      for (const { before } of scaled) before.dispose();
    }
  }

  /**
   * Copies of the state (tfjs's optimizers hand out their live variables): the caller disposes
   * them. Adam's include its bias-correction powers β1^t and β2^t, last (see setWeights).
   */
  override async getWeights(): Promise<NamedTensor[]> {
    const state = (await this.inner.getWeights()).map(({ name, tensor }) => ({
      name,
      tensor: tensor instanceof Variable ? clone(tensor) : tensor,
    }));
    const powers = this.biasCorrectionPowers();
    return powers ? [...state, ...BIAS_CORRECTION_POWERS.map((name, i) => ({ name, tensor: clone(powers[i]!) }))] : state;
  }

  /**
   * Restores what getWeights gave. tfjs's Adam recomputes β1^t and β2^t as pow(β, t + 1), which
   * differs in the last bit from the product it keeps step by step: a resumed run would not be the
   * uninterrupted one to the bit. Where the state carries them they are put back as they were.
   */
  override async setWeights(weights: NamedTensor[]): Promise<void> {
    const carried = BIAS_CORRECTION_POWERS.map((name) => weights.find((weight) => weight.name === name));
    await this.inner.setWeights(weights.filter(({ name }) => !BIAS_CORRECTION_POWERS.includes(name)));
    const powers = this.biasCorrectionPowers();
    carried.forEach((saved, i) => saved && powers?.[i]!.assign(saved.tensor as Scalar));
  }

  /** Adam's β1^t and β2^t (tfjs's accBeta1 and accBeta2, private there); none for SGD. */
  private biasCorrectionPowers(): [Variable, Variable] | undefined {
    const adam = this.inner as unknown as { accBeta1?: Variable; accBeta2?: Variable };
    return adam.accBeta1 && adam.accBeta2 ? [adam.accBeta1, adam.accBeta2] : undefined;
  }

  override getConfig() {
    return { ...this.spec, learningRate: this.rate };
  }

  override dispose(): void {
    this.inner.dispose();
    // tfjs 4.22's MomentumOptimizer.dispose forgets its SGD parent's learning-rate scalar.
    const rate = (this.inner as unknown as { c?: Tensor }).c;
    if (rate && !rate.isDisposed) rate.dispose();
    this.forgetKeep();
    super.dispose();
  }
}

function checkGroup(spec: OptimizerSpec, group: ParameterGroup): void {
  const where = `parameter group ${JSON.stringify(group.match)}`;
  if (group.learningRateScale !== undefined && !(group.learningRateScale > 0))
    throw new RangeError(`${where}: learningRateScale must be > 0, got ${group.learningRateScale}`);
  if (group.weightDecay !== undefined && !(group.weightDecay >= 0))
    throw new RangeError(`${where}: weightDecay must be ≥ 0, got ${group.weightDecay}`);
  if (group.epochs !== undefined && !(Number.isInteger(group.epochs) && group.epochs >= 0))
    throw new RangeError(`${where}: epochs must be a whole number ≥ 0, got ${group.epochs}`);
  if (group.frozenEpochs !== undefined && !(Number.isInteger(group.frozenEpochs) && group.frozenEpochs >= 0))
    throw new RangeError(`${where}: frozenEpochs must be a whole number ≥ 0, got ${group.frozenEpochs}`);
}

function checkSpec(spec: OptimizerSpec): void {
  const check = (name: string, value: number | undefined, ok: (v: number) => boolean, range: string) => {
    if (value !== undefined && !ok(value)) throw new RangeError(`optimizer ${spec.type}: ${name} must be ${range}, got ${value}`);
  };
  if (spec.type !== 'sgd' && spec.type !== 'adam' && spec.type !== 'adamw')
    throw new RangeError(`optimizer type must be sgd, adam or adamw, got ${String((spec as { type: unknown }).type)}`);
  check('weightDecay', spec.weightDecay, (v) => v >= 0, '≥ 0');
  check('maxGradientNorm', spec.maxGradientNorm, (v) => v > 0, '> 0');
  check('maxGradientValue', spec.maxGradientValue, (v) => v > 0, '> 0');
  if (spec.type === 'sgd') {
    check('momentum', spec.momentum, (v) => v >= 0 && v < 1, 'in [0, 1)');
    if (spec.nesterov && !spec.momentum) throw new RangeError('optimizer sgd: nesterov needs a momentum above 0');
  } else {
    check('beta1', spec.beta1, (v) => v >= 0 && v < 1, 'in [0, 1)');
    check('beta2', spec.beta2, (v) => v >= 0 && v < 1, 'in [0, 1)');
    check('epsilon', spec.epsilon, (v) => v > 0, '> 0');
  }
}
