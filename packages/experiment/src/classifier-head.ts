import { initializers, layers, type LayersModel, model as functional, type SymbolicTensor } from '@tensorflow/tfjs-layers';

type Layer = LayersModel['layers'][number];

export interface HeadOptions {
  readonly classes: number;
  readonly seed: number;
  /** true: a new head always; false: never (the numbers must match); default: where they differ. */
  readonly replaceHead?: boolean | undefined;
  /** Named in the error line. */
  readonly file: string;
}

/**
 * A pretrained classifier with logits for the dataset's classes: its last dense layer, its head
 * is replaced by a new one, seeded, where the classes differ in number or `replaceHead` says; kept otherwise, without a
 * softmax (training and export take logits).
 */
export function withClassifierHead(net: LayersModel, options: HeadOptions): LayersModel {
  const { features, head } = splitHead(net, options.file);
  const { units, activation, useBias } = head.getConfig() as { units: number; activation: string; useBias: boolean };
  const keep = units === options.classes && options.replaceHead !== true;
  if (keep && activation === 'linear' && net.layers.at(-1) === head) return net;
  const replaced = keep
    ? layers.dense({ units, useBias, name: head.name })
    : layers.dense({
        units: options.classes,
        name: 'head',
        kernelInitializer: initializers.glorotUniform({ seed: options.seed }),
        biasInitializer: 'zeros',
      });
  const logits = replaced.apply(features) as SymbolicTensor;
  if (keep) replaced.setWeights(head.getWeights());
  return functional({ inputs: net.inputs, outputs: logits, name: 'imported' });
}

/** The head and what it takes, computed from the model's inputs. */
function splitHead(net: LayersModel, file: string): { features: SymbolicTensor; head: Layer } {
  const last = net.layers.at(-1)!;
  if (last.getClassName() !== 'Dense') throw new RangeError(`${file}: it ends in a ${last.getClassName()} layer, not a dense head`);
  return { features: last.input as SymbolicTensor, head: last };
}
