import { add, dispose, mul, type NamedTensorMap, type Optimizer, type Scalar, tidy } from '@tensorflow/tfjs-core';

export function checkAccumulateBatches(every: number): void {
  if (!(Number.isInteger(every) && every >= 1)) throw new RangeError(`accumulateBatches must be a whole number ≥ 1, got ${every}`);
}

/**
 * Gradients summed over `every` batches, then applied once as their mean: the step of a batch
 * `every` times as large, in the memory of one (Lightning's accumulate_grad_batches). Batch norm
 * still takes each batch's own statistics, as in PyTorch. The group of an epoch's last batches may
 * be shorter: it is applied as the mean of what it holds.
 */
export class GradientAccumulation {
  private sum: NamedTensorMap = {};
  private count = 0;

  /** `every` as fit checked it (checkAccumulateBatches). */
  constructor(private readonly every: number) {}

  /** Adds the gradients of `loss` (one batch's), applying the mean once the group is full; the loss is the caller's. */
  add(optimizer: Optimizer, loss: () => Scalar): { loss: Scalar; applied: boolean } {
    const { value, grads } = optimizer.computeGradients(loss);
    const sum = this.sum;
    this.sum = tidy(() => Object.fromEntries(Object.entries(grads).map(([name, g]) => [name, sum[name] ? add(sum[name], g) : g.clone()])));
    dispose([...Object.values(sum), ...Object.values(grads)]);
    this.count++;
    return { loss: value, applied: this.count === this.every && this.apply(optimizer) };
  }

  /** Batches added since the last step: a stop waits for 0, so that no gradient is lost. */
  get pending(): number {
    return this.count;
  }

  /** Applies a group cut short by the epoch's end; whether there was one. */
  flush(optimizer: Optimizer): boolean {
    return this.count > 0 && this.apply(optimizer);
  }

  dispose(): void {
    dispose(Object.values(this.sum));
  }

  private apply(optimizer: Optimizer): true {
    const count = this.count;
    const mean = tidy(() => Object.fromEntries(Object.entries(this.sum).map(([name, g]) => [name, mul(g, 1 / count)])));
    dispose(Object.values(this.sum));
    [this.sum, this.count] = [{}, 0];
    try {
      optimizer.applyGradients(mean);
    } finally {
      dispose(Object.values(mean));
    }
    return true;
  }
}
