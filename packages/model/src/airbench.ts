import { initializers, type LayersModel, layers, sequential } from '@tensorflow/tfjs-layers';
import { tensor4d, tidy } from '@tensorflow/tfjs-core';
import { batchNormalization } from './batch-normalization.js';
import { activation } from './activation.js';
import { checkClassifierOptions, checkParameterCount, checkWidths, type ClassifierOptions } from './classifier-options.js';
import { LayerSeeds } from './layer-seeds.js';
import { conv2d } from './convolution.js';

/** airbench94's network (arXiv 2404.00498, `airbench94.py`): what `createAirbench` builds by default. */
export const AIRBENCH_WIDTHS = [64, 256, 256] as const;

export interface AirbenchOptions extends ClassifierOptions {
  /** Filters of the three blocks; default [64, 256, 256] (airbench94; airbench93 is [64, 128, 128]). */
  readonly widths?: readonly [number, number, number];
  /** Batch-norm momentum, as tfjs counts it (the moving average keeps this share); default 0.6. */
  readonly batchNormMomentum?: number;
  /** Multiplies the logits; default 1/9. */
  readonly outputScale?: number;
  /** Side of the whitening convolution's patches; default 2. */
  readonly whitenKernelSize?: number;
  /** The whitening kernel (`whiteningKernel` of training images, as the model sees them); without it the layer keeps a random start. */
  readonly whitening?: Float32Array;
}

/** The parameters `createAirbench` would make, or the RangeError it would throw, without building anything. */
export function checkAirbenchOptions(options: AirbenchOptions): number {
  const { inputShape, classes, widths = AIRBENCH_WIDTHS, whitenKernelSize: k = 2 } = options;
  checkClassifierOptions('createAirbench', options);
  checkWidths('createAirbench', 'widths', widths);
  if (widths.length !== 3) throw new RangeError(`createAirbench: widths must be three block widths, got [${widths.join(', ')}]`);
  checkWidths('createAirbench', 'whitenKernelSize', [k]);
  const [height, width, channels] = inputShape;
  // Whitening (valid) then three 2×2 pools and a 3×3 one.
  if (Math.min(height, width) - k + 1 < 24)
    throw new RangeError(`createAirbench: its pools need images of at least ${23 + k}×${23 + k}, got ${height}×${width}`);
  const whiten = 2 * k * k * channels;
  let parameters = k * k * channels * whiten + whiten;
  let previous = whiten;
  for (const filters of widths) {
    parameters += 9 * previous * filters + 9 * filters * filters + 4 * 2 * filters;
    previous = filters;
  }
  return checkParameterCount('createAirbench', parameters + previous * classes);
}

/**
 * airbench's CIFAR-10 network as a tfjs-layers model: a 2×2 patch-whitening convolution (`whiten`,
 * valid, with bias; its kernel frozen, to be set from the data with `whiteningKernel`) and GELU;
 * three blocks of conv 3×3 → max pool 2 → batch norm → GELU → conv 3×3 → batch norm → GELU; a 3×3
 * max pool, a dense layer without bias (`logits`) and the logits scaled by `outputScale`
 * (`scale`, a Rescaling layer). Convolutions have no bias and start as the identity on their first
 * input-width filters ("dirac" initialisation), the rest uniform in ±1/√fan-in as PyTorch starts
 * them; batch norms keep their scale frozen at 1 (bias only) and use ε 1e-12.
 */
export function createAirbench(options: AirbenchOptions): LayersModel {
  const {
    inputShape,
    classes,
    widths = AIRBENCH_WIDTHS,
    batchNormMomentum = 0.6,
    outputScale = 1 / 9,
    whitenKernelSize: k = 2,
    seed = 43,
  } = options;
  checkAirbenchOptions(options);
  if (!(batchNormMomentum >= 0 && batchNormMomentum < 1))
    throw new RangeError(`createAirbench: batchNormMomentum must be in [0, 1), got ${batchNormMomentum}`);
  const seeds = new LayerSeeds(seed);
  const channels = inputShape[2];
  const whitenWidth = 2 * k * k * channels;
  const torchUniform = (fanIn: number) =>
    initializers.randomUniform({ minval: -1 / Math.sqrt(fanIn), maxval: 1 / Math.sqrt(fanIn), seed: seeds.layerSeed() });
  const model = sequential({ name: 'airbench' });
  model.add(
    conv2d({
      inputShape: [...inputShape],
      name: 'whiten',
      filters: whitenWidth,
      kernelSize: k,
      padding: 'valid',
      useBias: true,
      kernelInitializer: torchUniform(k * k * channels),
      biasInitializer: 'zeros',
    }),
  );
  model.add(activation({ activation: 'gelu' }));
  const norm = () => batchNormalization({ momentum: batchNormMomentum, epsilon: 1e-12 });
  const convolutions: { name: string; inputs: number }[] = [];
  let previous = whitenWidth;
  widths.forEach((filters, block) => {
    for (const [i, inputs] of [
      [1, previous],
      [2, filters],
    ] as const) {
      const name = `block${block + 1}_conv${i}`;
      convolutions.push({ name, inputs });
      model.add(conv2d({ name, filters, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: torchUniform(9 * inputs) }));
      if (i === 1) model.add(layers.maxPooling2d({ poolSize: 2 }));
      model.add(norm());
      model.add(activation({ activation: 'gelu' }));
    }
    previous = filters;
  });
  model.add(layers.maxPooling2d({ poolSize: 3 }));
  model.add(layers.flatten());
  model.add(layers.dense({ name: 'logits', units: classes, useBias: false, kernelInitializer: torchUniform(previous) }));
  model.add(layers.rescaling({ name: 'scale', scale: outputScale, offset: 0 }));
  for (const { name, inputs } of convolutions) diracStart(model, name, inputs);
  if (options.whitening) {
    const whiten = model.getLayer('whiten');
    const [kernel, bias] = whiten.getWeights();
    if (options.whitening.length !== kernel!.size)
      throw new RangeError(`createAirbench: whitening has ${options.whitening.length} values, the ${k}×${k} layer ${kernel!.size}`);
    tidy(() => whiten.setWeights([tensor4d(options.whitening!, kernel!.shape as [number, number, number, number]), bias!]));
  }
  // Sequential builds its inner model lazily, on first use, and that sets every weight trainable
  // again: built now, the freeze below stays.
  model.build(model.inputs[0]!.shape);
  freeze(model);
  return model;
}

/** PyTorch's `dirac_` on a conv's first `inputs` filters: each passes its own input channel through, unchanged. */
function diracStart(model: LayersModel, name: string, inputs: number): void {
  const layer = model.getLayer(name);
  const kernel = layer.getWeights()[0]!;
  const [kh, kw, channelsIn, filters] = kernel.shape as [number, number, number, number];
  const values = kernel.dataSync().slice();
  for (let f = 0; f < Math.min(inputs, filters); f++) {
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++) for (let c = 0; c < channelsIn; c++) values[((y * kw + x) * channelsIn + c) * filters + f] = 0;
    values[((Math.floor(kh / 2) * kw + Math.floor(kw / 2)) * channelsIn + f) * filters + f] = 1;
  }
  tidy(() => layer.setWeights([tensor4d(values, [kh, kw, channelsIn, filters])]));
}

/** The weights airbench does not train: the whitening kernel and every batch norm's scale. */
function freeze(model: LayersModel): void {
  for (const layer of model.layers) {
    for (const weight of layer.trainableWeights) {
      const name = (weight as unknown as { originalName: string }).originalName;
      if (name === 'whiten/kernel' || name.endsWith('/gamma')) weight.trainable = false;
    }
  }
}
