import { initializers } from '@tensorflow/tfjs-layers';

/**
 * Seeds for a model's layers, one after another from the model's seed: the same seed gives the
 * same initial weights on every backend, and two layers never share a stream.
 */
export class LayerSeeds {
  private next: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
    this.next = seed;
  }

  /** A seed for a layer's own randomness (dropout). */
  layerSeed(): number {
    return this.next++;
  }

  /** He-normal (fan in), the usual start for layers followed by ReLU. */
  heNormal() {
    return initializers.heNormal({ seed: this.next++ });
  }

  /** Glorot-uniform, tfjs's default for dense layers, seeded. */
  glorotUniform() {
    return initializers.glorotUniform({ seed: this.next++ });
  }
}
