import { add, dispose, mul, sub, type Tensor, tidy } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

/**
 * A running average of one run's weights, in `model.weights` order (batch-norm statistics too):
 * what lookahead and the EMA keep and checkpoints hold. Its owner disposes it.
 */
export class WeightAverage {
  #average: Tensor[];

  /** Starts from `from` (a checkpoint's average, copied), else from the model's weights now; `what` names it in errors. */
  constructor(
    private readonly model: LayersModel,
    what: string,
    from?: readonly Tensor[],
  ) {
    if (from && from.length !== model.weights.length)
      throw new RangeError(`${what}: the saved average has ${from.length} weights, the model ${model.weights.length}`);
    this.#average = (from ?? model.weights.map((weight) => weight.read())).map((tensor) => tensor.clone());
  }

  /**
   * average + share·(weights − average), as PyTorch's lerp, so a weight that did not move (a frozen
   * one) stays to the bit; a share of 0 changes nothing.
   */
  moveToward(share: number): void {
    if (share === 0) return;
    const weights = this.model.weights;
    const next = tidy(() => this.#average.map((average, i) => add(average, mul(sub(weights[i]!.read(), average), share))));
    dispose(this.#average);
    this.#average = next;
  }

  /** The average now: what a checkpoint keeps. */
  get tensors(): readonly Tensor[] {
    return this.#average;
  }

  /** The model's weights become the average. */
  writeToModel(): void {
    writeWeights(this.model, this.#average);
  }

  dispose(): void {
    dispose(this.#average);
  }
}

/** Copies `values` (in `model.weights` order) into the model's weights. */
export function writeWeights(model: LayersModel, values: readonly Tensor[]): void {
  tidy(() => model.weights.forEach((weight, i) => weight.write(values[i]!.clone())));
}
