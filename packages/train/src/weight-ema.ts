import { add, dispose, mul, sub, type Tensor, tidy } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { defer, finalize, type Observable } from 'rxjs';

/**
 * An exponential moving average of the weights (timm's ModelEma): after every step
 * ema ← ema + (1 − decay)·(weights − ema), over every weight, batch-norm statistics too. Validation
 * runs on it, keepBest keeps it, and when training ends the model takes it.
 */
export interface EmaOptions {
  /** Default 0.9998: an average over about 5,000 steps (1 / (1 − decay)). */
  readonly decay?: number;
}

export const DEFAULT_EMA_DECAY = 0.9998;

export function checkEma(options: EmaOptions): void {
  const decay = options.decay ?? DEFAULT_EMA_DECAY;
  if (!(decay > 0 && decay < 1)) throw new RangeError(`ema: decay must be in (0, 1), got ${decay}`);
}

/** The average of one run's weights (`model.weights` order); its owner disposes it. */
export class WeightEma {
  private average: Tensor[];
  private readonly decay: number;

  /** Starts from `from` (a checkpoint's average, copied), else from the model's weights now. */
  constructor(
    private readonly model: LayersModel,
    options: EmaOptions,
    from?: readonly Tensor[],
  ) {
    checkEma(options);
    this.decay = options.decay ?? DEFAULT_EMA_DECAY;
    if (from && from.length !== model.weights.length)
      throw new RangeError(`ema: the saved average has ${from.length} weights, the model ${model.weights.length}`);
    this.average = (from ?? model.weights.map((weight) => weight.read())).map((tensor) => tensor.clone());
  }

  /** After each optimizer step. As PyTorch's lerp, so a weight that did not move stays to the bit. */
  afterStep(): void {
    const weights = this.model.weights;
    const next = tidy(() => this.average.map((average, i) => add(average, mul(sub(weights[i]!.read(), average), 1 - this.decay))));
    dispose(this.average);
    this.average = next;
  }

  /** The average now, in `model.weights` order: what a checkpoint keeps. */
  get weights(): readonly Tensor[] {
    return this.average;
  }

  /** `run` with the model holding the average; its own weights go back when `run` ends or is unsubscribed. */
  applied<T>(run: () => Observable<T>): Observable<T> {
    return defer(() => {
      const own = this.model.weights.map((weight) => weight.read().clone());
      write(this.model, this.average);
      return run().pipe(
        finalize(() => {
          write(this.model, own);
          dispose(own);
        }),
      );
    });
  }

  /** The model takes the average (training ended). */
  finish(): void {
    write(this.model, this.average);
  }

  dispose(): void {
    dispose(this.average);
  }
}

function write(model: LayersModel, values: readonly Tensor[]): void {
  tidy(() => model.weights.forEach((weight, i) => weight.write(values[i]!.clone())));
}
