import { dispose, type Tensor } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { defer, finalize, type Observable } from 'rxjs';
import { WeightAverage, writeWeights } from './weight-average.js';

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

/** The moving average of one run's weights; its owner disposes it. */
export class WeightEma {
  private readonly average: WeightAverage;
  private readonly decay: number;

  /** Starts from `from` (a checkpoint's average, copied), else from the model's weights now. */
  constructor(
    private readonly model: LayersModel,
    options: EmaOptions,
    from?: readonly Tensor[],
  ) {
    checkEma(options);
    this.decay = options.decay ?? DEFAULT_EMA_DECAY;
    this.average = new WeightAverage(model, 'ema', from);
  }

  /** After each optimizer step. */
  afterStep(): void {
    this.average.moveToward(1 - this.decay);
  }

  /** The average now, in `model.weights` order: what a checkpoint keeps. */
  get weights(): readonly Tensor[] {
    return this.average.tensors;
  }

  /** `run` with the model holding the average; its own weights go back when `run` ends or is unsubscribed. */
  applied<T>(run: () => Observable<T>): Observable<T> {
    return defer(() => {
      const own = this.model.weights.map((weight) => weight.read().clone());
      this.average.writeToModel();
      return run().pipe(
        finalize(() => {
          writeWeights(this.model, own);
          dispose(own);
        }),
      );
    });
  }

  /** The model takes the average (training ended). */
  finish(): void {
    this.average.writeToModel();
  }

  dispose(): void {
    this.average.dispose();
  }
}
