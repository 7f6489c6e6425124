import { type LayersModel, model as functional, type SymbolicTensor } from '@tensorflow/tfjs-layers';

type Layer = LayersModel['layers'][number];
/** A call of a layer: what tfjs-layers records of it (its Node). */
interface Call {
  readonly inputTensors: SymbolicTensor[];
  readonly outputTensors: SymbolicTensor[];
}

/**
 * A copy of `net` with its nested models opened out (Teachable Machine's and Keras' applications'
 * `Sequential` of `Sequential`s): one functional model of new layers, each with its configuration
 * and weights, named as in `net`. Nothing is shared with `net`, and the copy exports to ONNX, which
 * takes no nested model.
 */
export function flatModel(net: LayersModel): LayersModel {
  const names = new Set<string>();
  const outputs = openOut(net, net.inputs, names);
  return functional({ inputs: net.inputs, outputs, name: net.name });
}

function openOut(container: LayersModel, inputs: readonly SymbolicTensor[], names: Set<string>): SymbolicTensor[] {
  const values = new Map<SymbolicTensor, SymbolicTensor>(container.inputs.map((tensor, i) => [tensor, inputs[i]!]));
  for (const layer of container.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    // Its call inside this container (a nested model has one more: the link of its own inputs to its outputs).
    const call = (layer.inboundNodes as unknown as Call[]).find((node) => node.inputTensors.every((tensor) => values.has(tensor)));
    if (!call) throw new RangeError(`${container.name}: layer ${layer.name} is not reached from the inputs`);
    const taken = call.inputTensors.map((tensor) => values.get(tensor)!);
    const given = isModel(layer) ? openOut(layer, taken, names) : [applied(copyOf(layer, names), taken)];
    call.outputTensors.forEach((tensor, i) => values.set(tensor, given[i]!));
  }
  return container.outputs.map((tensor) => values.get(tensor)!);
}

const isModel = (layer: Layer): layer is LayersModel => 'layers' in layer && Array.isArray((layer as LayersModel).layers);

/** A new layer of the same class and configuration, under a name not yet taken; its weights are set once built. */
function copyOf(layer: Layer, names: Set<string>): { copy: Layer; weights: ReturnType<Layer['getWeights']> } {
  let name = layer.name;
  for (let i = 1; names.has(name); i++) name = `${layer.name}_${i}`;
  names.add(name);
  const kind = layer.constructor as unknown as { fromConfig(kind: unknown, config: object): Layer };
  return { copy: kind.fromConfig(kind, { ...layer.getConfig(), name }), weights: layer.getWeights() };
}

function applied({ copy, weights }: ReturnType<typeof copyOf>, taken: SymbolicTensor[]): SymbolicTensor {
  const output = copy.apply(taken.length === 1 ? taken[0]! : taken) as SymbolicTensor;
  copy.setWeights(weights);
  return output;
}
