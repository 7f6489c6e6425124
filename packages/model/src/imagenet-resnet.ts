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

/** torchvision's ResNets: blocks per stage, and whether they are bottlenecks (1×1, 3×3, 1×1 at four times the width). */
export const IMAGENET_RESNETS = {
  18: { blocks: [2, 2, 2, 2], bottleneck: false },
  34: { blocks: [3, 4, 6, 3], bottleneck: false },
  50: { blocks: [3, 4, 6, 3], bottleneck: true },
} as const;

export interface ImageNetResNetOptions extends ClassifierOptions, BatchNormOptions {
  readonly depth: keyof typeof IMAGENET_RESNETS;
}

const WIDTHS = [64, 128, 256, 512];

/** The parameters `createImageNetResNet` would make (torchvision's count, plus the batch norms' running statistics), or its RangeError. */
export function checkImageNetResNetOptions(options: ImageNetResNetOptions): number {
  checkClassifierOptions('createImageNetResNet', options);
  const shape = IMAGENET_RESNETS[options.depth];
  if (!shape) throw new RangeError(`createImageNetResNet: depth must be 18, 34 or 50, got ${String(options.depth)}`);
  batchNormMomentumOf('createImageNetResNet', options);
  const [height, width] = options.inputShape;
  if (height < 32 || width < 32)
    throw new RangeError(`createImageNetResNet: images of at least 32×32 (it downsamples 32 times), got ${height}×${width}`);
  const conv = (k: number, cin: number, cout: number) => k * k * cin * cout + 4 * cout; // with its batch norm
  let parameters = conv(7, options.inputShape[2], 64);
  let channels = 64;
  const expansion = shape.bottleneck ? 4 : 1;
  shape.blocks.forEach((count, stage) => {
    const planes = WIDTHS[stage]!;
    for (let block = 0; block < count; block++) {
      const out = planes * expansion;
      parameters += shape.bottleneck
        ? conv(1, channels, planes) + conv(3, planes, planes) + conv(1, planes, out)
        : conv(3, channels, planes) + conv(3, planes, planes);
      if (block === 0 && (stage > 0 || channels !== out)) parameters += conv(1, channels, out);
      channels = out;
    }
  });
  return checkParameterCount('createImageNetResNet', parameters + (channels + 1) * options.classes);
}

/**
 * torchvision's ResNet-18, -34 or -50 for ImageNet-sized images: a 7×7 stride-2 stem and a 3×3
 * stride-2 max pool, four stages of basic blocks (bottlenecks for 50, stride 2 on their 3×3 as
 * torchvision's v1.5), global average pooling and a dense head. Padding is explicit and
 * symmetric, as PyTorch's, so that torchvision's weights would compute the same function; layers
 * are named as torchvision names its weights (`conv1`, `layer2.0.downsample.0`, `fc`), so that a
 * parameter group can freeze `^layer[12]`.
 */
export function createImageNetResNet(options: ImageNetResNetOptions): LayersModel {
  checkImageNetResNetOptions(options);
  const { inputShape, classes, depth, dropout = 0, seed = 43 } = options;
  const { blocks, bottleneck } = IMAGENET_RESNETS[depth];
  const momentum = batchNormMomentumOf('createImageNetResNet', options);
  const seeds = new LayerSeeds(seed);
  /** A convolution without bias and its batch norm; stride 2 pads explicitly, as PyTorch does. */
  const convBn = (x: SymbolicTensor, name: string, bn: string, filters: number, kernelSize: number, strides: number) => {
    const pad = (kernelSize - 1) / 2;
    const padded = strides > 1 && pad > 0 ? apply(layers.zeroPadding2d({ padding: pad, name: `${name}.pad` }), x) : x;
    const padding = strides > 1 || pad === 0 ? 'valid' : 'same';
    const conv = conv2d({ filters, kernelSize, strides, padding, useBias: false, kernelInitializer: seeds.heNormal(), name });
    return apply(batchNormalization({ momentum, epsilon: 1e-5, name: bn }), apply(conv, padded));
  };
  const relu = (x: SymbolicTensor) => apply(reLU(), x);

  const images = input({ shape: [...inputShape] });
  let x = relu(convBn(images, 'conv1', 'bn1', 64, 7, 2));
  // Max pooling after a ReLU: zeros pad as PyTorch's −∞ would, no value being below them.
  x = apply(layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid' }), apply(layers.zeroPadding2d({ padding: 1 }), x));
  let channels = 64;
  blocks.forEach((count, stage) => {
    const planes = WIDTHS[stage]!;
    const out = bottleneck ? planes * 4 : planes;
    for (let block = 0; block < count; block++) {
      const strides = stage > 0 && block === 0 ? 2 : 1;
      const at = `layer${stage + 1}.${block}`;
      const branch = bottleneck
        ? convBn(
            relu(convBn(relu(convBn(x, `${at}.conv1`, `${at}.bn1`, planes, 1, 1)), `${at}.conv2`, `${at}.bn2`, planes, 3, strides)),
            `${at}.conv3`,
            `${at}.bn3`,
            out,
            1,
            1,
          )
        : convBn(relu(convBn(x, `${at}.conv1`, `${at}.bn1`, planes, 3, strides)), `${at}.conv2`, `${at}.bn2`, planes, 3, 1);
      const shortcut = strides === 1 && channels === out ? x : convBn(x, `${at}.downsample.0`, `${at}.downsample.1`, out, 1, strides);
      x = relu(apply(layers.add(), [branch, shortcut]));
      channels = out;
    }
  });
  x = apply(globalAveragePooling2d({}), x);
  if (dropout > 0) x = apply(layers.dropout({ rate: dropout, seed: seeds.layerSeed() }), x);
  const logits = apply(layers.dense({ units: classes, kernelInitializer: seeds.glorotUniform(), name: 'fc' }), x);
  return model({ inputs: images, outputs: logits, name: `resnet${depth}` });
}
