import type { Tensor } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

type Call = (inputs: Tensor | Tensor[], kwargs: Record<string, unknown>) => Tensor | Tensor[];
interface Callable {
  call: Call;
}

/** Each held layer's own `call`, to put back when it trains again. */
const ownCalls = new WeakMap<object, Call>();

/**
 * Batch norms whose trainable weights are all frozen this epoch (`frozen` by variable name) run
 * as at inference: they normalise with their running statistics and leave them as they are, as a
 * frozen pretrained body's should; the others train. Called as each epoch starts, so it is a
 * function of the epoch, and a resumed run holds the same layers.
 */
export function holdFrozenBatchNorms(model: LayersModel, frozen: (variable: string) => boolean): void {
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const weights = layer.trainableWeights;
    const hold = weights.length > 0 && weights.every((weight) => frozen(weight.name));
    const callable = layer as unknown as Callable;
    const own = ownCalls.get(layer);
    if (hold && !own) {
      const call = callable.call;
      ownCalls.set(layer, call);
      callable.call = (inputs, kwargs) => call.call(layer, inputs, { ...kwargs, training: false });
    } else if (!hold && own) {
      callable.call = own;
      ownCalls.delete(layer);
    }
  }
}
