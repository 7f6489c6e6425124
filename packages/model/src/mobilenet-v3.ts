import { reLU } from './activation.js';
import { input, type LayersModel, layers, model, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { applyLayer as apply } from './apply-layer.js';
import { batchNormalization } from './batch-normalization.js';
import {
  batchNormMomentumOf,
  type BatchNormOptions,
  checkClassifierOptions,
  checkParameterCount,
  type ClassifierOptions,
} from './classifier-options.js';
import { LayerSeeds } from './layer-seeds.js';
import { conv2d } from './convolution.js';
import { globalAveragePooling2d } from './global-average-pooling.js';

/** One inverted residual block of torchvision's: input, kernel, expanded and output channels, squeeze-and-excitation, hard-swish, stride. */
type Block = readonly [input: number, kernel: 3 | 5, expanded: number, output: number, se: boolean, hardSwish: boolean, stride: 1 | 2];

/** torchvision's `_mobilenet_v3_conf`: the blocks and the width before the head. */
export const MOBILENET_V3 = {
  small: {
    lastChannel: 1024,
    blocks: [
      [16, 3, 16, 16, true, false, 2],
      [16, 3, 72, 24, false, false, 2],
      [24, 3, 88, 24, false, false, 1],
      [24, 5, 96, 40, true, true, 2],
      [40, 5, 240, 40, true, true, 1],
      [40, 5, 240, 40, true, true, 1],
      [40, 5, 120, 48, true, true, 1],
      [48, 5, 144, 48, true, true, 1],
      [48, 5, 288, 96, true, true, 2],
      [96, 5, 576, 96, true, true, 1],
      [96, 5, 576, 96, true, true, 1],
    ] as readonly Block[],
  },
  large: {
    lastChannel: 1280,
    blocks: [
      [16, 3, 16, 16, false, false, 1],
      [16, 3, 64, 24, false, false, 2],
      [24, 3, 72, 24, false, false, 1],
      [24, 5, 72, 40, true, false, 2],
      [40, 5, 120, 40, true, false, 1],
      [40, 5, 120, 40, true, false, 1],
      [40, 3, 240, 80, false, true, 2],
      [80, 3, 200, 80, false, true, 1],
      [80, 3, 184, 80, false, true, 1],
      [80, 3, 184, 80, false, true, 1],
      [80, 3, 480, 112, true, true, 1],
      [112, 3, 672, 112, true, true, 1],
      [112, 5, 672, 160, true, true, 2],
      [160, 5, 960, 160, true, true, 1],
      [160, 5, 960, 160, true, true, 1],
    ] as readonly Block[],
  },
} as const;

export interface MobileNetV3Options extends ClassifierOptions, BatchNormOptions {
  readonly variant: keyof typeof MOBILENET_V3;
  /** torchvision's `width_mult` (default 1): every width scaled, then rounded to a multiple of 8. */
  readonly widthMultiplier?: number;
}

/** torchvision's `_make_divisible(v, 8)`: the nearest multiple of 8, never 10% below `v`. */
const divisible = (v: number) => {
  const rounded = Math.max(8, Math.floor((v + 4) / 8) * 8);
  return rounded < 0.9 * v ? rounded + 8 : rounded;
};

/** The variant's blocks and head width at the width multiplier, as torchvision adjusts them. */
function architecture({ variant, widthMultiplier = 1 }: MobileNetV3Options) {
  const scale = (channels: number) => divisible(channels * widthMultiplier);
  const { blocks, lastChannel } = MOBILENET_V3[variant];
  return {
    blocks: blocks.map(([i, k, e, o, se, hs, s]) => [scale(i), k, scale(e), scale(o), se, hs, s] as Block),
    lastChannel: scale(lastChannel),
  };
}

/** The parameters `createMobileNetV3` would make (torchvision's count plus running statistics), or its RangeError. */
export function checkMobileNetV3Options(options: MobileNetV3Options): number {
  const builder = 'createMobileNetV3';
  checkClassifierOptions(builder, options);
  batchNormMomentumOf(builder, options);
  if (!(options.variant in MOBILENET_V3))
    throw new RangeError(`${builder}: variant must be small or large, got ${String(options.variant)}`);
  const { widthMultiplier = 1 } = options;
  if (!(widthMultiplier > 0 && widthMultiplier <= 4))
    throw new RangeError(`${builder}: widthMultiplier must be in (0, 4], got ${widthMultiplier}`);
  const [height, width] = options.inputShape;
  if (height < 32 || width < 32)
    throw new RangeError(`${builder}: images of at least 32×32 (it downsamples 32 times), got ${height}×${width}`);
  const { blocks, lastChannel } = architecture(options);
  const conv = (k: number, cin: number, cout: number) => k * k * cin * cout + 4 * cout; // with its batch norm
  let parameters = conv(3, options.inputShape[2], blocks[0]![0]);
  for (const [cin, k, expanded, cout, se] of blocks) {
    const squeeze = divisible(Math.floor(expanded / 4));
    parameters += expanded === cin ? 0 : conv(1, cin, expanded);
    parameters += k * k * expanded + 4 * expanded;
    parameters += se ? 2 * expanded * squeeze + squeeze + expanded : 0;
    parameters += conv(1, expanded, cout);
  }
  const lastIn = blocks.at(-1)![3];
  parameters += conv(1, lastIn, 6 * lastIn) + 6 * lastIn * lastChannel + lastChannel + (lastChannel + 1) * options.classes;
  return checkParameterCount(builder, parameters);
}

/**
 * torchvision's MobileNetV3 (small or large): a 3×3 stride-2 stem, inverted residual blocks (1×1
 * expansion, k×k depthwise, squeeze-and-excitation with a hard sigmoid where the block has it, linear
 * 1×1 projection; a residual where the shape stays), ReLU or hard-swish, a 1×1 convolution to six
 * times the last width, global average pooling, a dense layer with hard-swish, dropout 0.2 and the
 * head. PyTorch's padding and batch-norm epsilon (1e-3), layers named as torchvision's weights
 * (`features.4.block.2.fc1`, `classifier.3`), so that its ONNX export's weights load by name.
 * Hard-swish and the hard sigmoid are built from rescaling, ReLU6 and multiply, which export to ONNX.
 */
export function createMobileNetV3(options: MobileNetV3Options): LayersModel {
  checkMobileNetV3Options(options);
  const { inputShape, classes, dropout = 0.2, seed = 43 } = options;
  const momentum = batchNormMomentumOf('createMobileNetV3', options);
  const seeds = new LayerSeeds(seed);
  const { blocks, lastChannel } = architecture(options);
  /** relu6(x + 3) / 6: torchvision's Hardsigmoid. */
  const hardSigmoid = (x: SymbolicTensor) =>
    apply(
      layers.rescaling({ scale: 1 / 6, offset: 0 }),
      apply(layers.reLU({ maxValue: 6 }), apply(layers.rescaling({ scale: 1, offset: 3 }), x)),
    );
  const hardSwish = (x: SymbolicTensor) => apply(layers.multiply(), [x, hardSigmoid(x)]);
  const activation = (x: SymbolicTensor, swish: boolean) => (swish ? hardSwish(x) : apply(reLU(), x));
  const bn = (x: SymbolicTensor, name: string) => apply(batchNormalization({ momentum, epsilon: 1e-3, name }), x);
  /** A k×k convolution (depthwise where `filters` is not given) with PyTorch's padding (k - 1) / 2 and its batch norm. */
  const convBn = (x: SymbolicTensor, name: string, k: number, strides: number, filters?: number) => {
    const padded = strides > 1 && k > 1 ? apply(layers.zeroPadding2d({ padding: (k - 1) / 2, name: `${name}.pad` }), x) : x;
    const common = { kernelSize: k, strides, padding: strides > 1 ? 'valid' : 'same', useBias: false, name: `${name}.0` } as const;
    const layer =
      filters === undefined
        ? layers.depthwiseConv2d({ ...common, depthwiseInitializer: seeds.heNormal() })
        : conv2d({ ...common, filters, kernelInitializer: seeds.heNormal() });
    return bn(apply(layer, padded), `${name}.1`);
  };
  /** Squeeze-and-excitation: the block's channels scaled by a gate computed from their means. */
  const excite = (x: SymbolicTensor, name: string, channels: number) => {
    const [, height, width] = x.shape as number[];
    const pooled = apply(layers.averagePooling2d({ poolSize: [height!, width!] }), x);
    const fc = (y: SymbolicTensor, filters: number, part: string) =>
      apply(conv2d({ filters, kernelSize: 1, kernelInitializer: seeds.heNormal(), name: `${name}.${part}` }), y);
    const gate = hardSigmoid(fc(apply(reLU(), fc(pooled, divisible(Math.floor(channels / 4)), 'fc1')), channels, 'fc2'));
    return apply(layers.multiply(), [x, gate]);
  };

  const images = input({ shape: [...inputShape] });
  let x = activation(convBn(images, 'features.0', 3, 2, blocks[0]![0]), true);
  blocks.forEach(([cin, k, expanded, cout, se, swish, stride], i) => {
    const at = `features.${i + 1}.block`;
    let part = 0;
    let y = x;
    if (expanded !== cin) y = activation(convBn(y, `${at}.${part++}`, 1, 1, expanded), swish);
    y = activation(convBn(y, `${at}.${part++}`, k, stride), swish);
    if (se) y = excite(y, `${at}.${part++}`, expanded);
    y = convBn(y, `${at}.${part}`, 1, 1, cout);
    x = stride === 1 && cin === cout ? apply(layers.add(), [x, y]) : y;
  });
  const lastIn = blocks.at(-1)![3];
  x = activation(convBn(x, `features.${blocks.length + 1}`, 1, 1, 6 * lastIn), true);
  x = apply(globalAveragePooling2d({}), x);
  x = hardSwish(apply(layers.dense({ units: lastChannel, kernelInitializer: seeds.glorotUniform(), name: 'classifier.0' }), x));
  if (dropout > 0) x = apply(layers.dropout({ rate: dropout, seed: seeds.layerSeed() }), x);
  const logits = apply(layers.dense({ units: classes, kernelInitializer: seeds.glorotUniform(), name: 'classifier.3' }), x);
  return model({ inputs: images, outputs: logits, name: `mobilenet_v3_${options.variant}` });
}
