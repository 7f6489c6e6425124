import type { Tensor } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { WeightAverage } from './weight-average.js';

/**
 * Lookahead as airbench keeps it (arXiv 2404.00498): an average of the weights (batch-norm
 * statistics too) that every `every` steps takes `1 − decay` of the weights, the weights then
 * reset to it; `decay = base · (step / total)^power` grows from 0 to `base`, so early on the
 * weights move freely and late they are pulled to the average. When training ends the weights
 * become the average, which is what is evaluated and saved.
 */
export interface LookaheadOptions {
  /** Steps between updates; default 5. */
  readonly every?: number;
  /** The decay at the last step; default 0.95⁵ = 0.7738. */
  readonly decay?: number;
  /** How the decay grows with the share of steps done; default 3 (a cube). */
  readonly power?: number;
}

export function checkLookahead(options: LookaheadOptions): void {
  const { every = 5, decay = 0.95 ** 5, power = 3 } = options;
  if (!(Number.isInteger(every) && every >= 1)) throw new RangeError(`lookahead: every must be a whole number ≥ 1, got ${every}`);
  if (!(decay >= 0 && decay <= 1)) throw new RangeError(`lookahead: decay must be in [0, 1], got ${decay}`);
  if (!(power >= 0 && Number.isFinite(power))) throw new RangeError(`lookahead: power must be ≥ 0, got ${power}`);
}

/** The running average of one run's weights (`model.weights` order); its owner disposes it. */
export class Lookahead {
  private readonly average: WeightAverage;
  private readonly every: number;
  private readonly decay: number;
  private readonly power: number;

  /** Starts from `from` (a checkpoint's average, copied), else from the model's weights now. */
  constructor(
    model: LayersModel,
    options: LookaheadOptions,
    private readonly totalSteps: number,
    from?: readonly Tensor[],
  ) {
    checkLookahead(options);
    ({ every: this.every = 5, decay: this.decay = 0.95 ** 5, power: this.power = 3 } = options);
    this.average = new WeightAverage(model, 'lookahead', from);
  }

  /** After step `done` of the run (1-based over all epochs): blends and resets on every `every`th. */
  afterStep(done: number): void {
    if (done % this.every !== 0) return;
    this.blend(this.decay * Math.min(1, done / this.totalSteps) ** this.power);
  }

  /** The weights become the average (training ended). */
  finish(): void {
    this.blend(1);
  }

  /** The average now, in `model.weights` order: what a checkpoint keeps. */
  get weights(): readonly Tensor[] {
    return this.average.tensors;
  }

  dispose(): void {
    this.average.dispose();
  }

  private blend(decay: number): void {
    this.average.moveToward(1 - decay);
    this.average.writeToModel();
  }
}
