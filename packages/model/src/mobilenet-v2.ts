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

/** torchvision's inverted residual settings: expansion t, channels c, blocks n, first stride s. */
const SETTINGS = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
] as const;

export type MobileNetV2Options = ClassifierOptions & BatchNormOptions;

/** The parameters `createMobileNetV2` would make (torchvision's count plus running statistics), or its RangeError. */
export function checkMobileNetV2Options(options: MobileNetV2Options): number {
  checkClassifierOptions('createMobileNetV2', options);
  batchNormMomentumOf('createMobileNetV2', options);
  const [height, width] = options.inputShape;
  if (height < 32 || width < 32)
    throw new RangeError(`createMobileNetV2: images of at least 32×32 (it downsamples 32 times), got ${height}×${width}`);
  const conv = (k: number, cin: number, cout: number) => k * k * cin * cout + 4 * cout;
  let parameters = conv(3, options.inputShape[2], 32);
  let channels = 32;
  for (const [t, c, n] of SETTINGS)
    for (let i = 0; i < n; i++) {
      const hidden = channels * t;
      parameters += (t === 1 ? 0 : conv(1, channels, hidden)) + 9 * hidden + 4 * hidden + conv(1, hidden, c);
      channels = c;
    }
  parameters += conv(1, channels, 1280);
  return checkParameterCount('createMobileNetV2', parameters + 1281 * options.classes);
}

/**
 * torchvision's MobileNetV2: a 3×3 stride-2 stem, inverted residual blocks (1×1 expansion, 3×3
 * depthwise, linear 1×1 projection; a residual where the shape stays), a 1×1 convolution to 1280,
 * global average pooling, dropout 0.2 and a dense head; ReLU6 throughout, explicit symmetric
 * padding, layers named as torchvision's weights (`features.3.conv.1.0`, `classifier.1`).
 */
export function createMobileNetV2(options: MobileNetV2Options): LayersModel {
  checkMobileNetV2Options(options);
  const { inputShape, classes, dropout = 0.2, seed = 43 } = options;
  const momentum = batchNormMomentumOf('createMobileNetV2', options);
  const seeds = new LayerSeeds(seed);
  const bn = (x: SymbolicTensor, name: string) => apply(batchNormalization({ momentum, epsilon: 1e-5, name }), x);
  const relu6 = (x: SymbolicTensor) => apply(layers.reLU({ maxValue: 6 }), x);
  /** A 3×3 convolution (depthwise or not) with PyTorch's padding of 1, its batch norm and ReLU6. */
  const conv3 = (x: SymbolicTensor, name: string, strides: number, filters?: number) => {
    const padded = strides > 1 ? apply(layers.zeroPadding2d({ padding: 1, name: `${name}.pad` }), x) : x;
    const common = { kernelSize: 3, strides, padding: strides > 1 ? 'valid' : 'same', useBias: false, name: `${name}.0` } as const;
    const layer =
      filters === undefined
        ? layers.depthwiseConv2d({ ...common, depthwiseInitializer: seeds.heNormal() })
        : conv2d({ ...common, filters, kernelInitializer: seeds.heNormal() });
    return relu6(bn(apply(layer, padded), `${name}.1`));
  };
  const pointwise = (x: SymbolicTensor, name: string, filters: number) =>
    apply(conv2d({ filters, kernelSize: 1, useBias: false, kernelInitializer: seeds.heNormal(), name }), x);

  const images = input({ shape: [...inputShape] });
  let x = conv3(images, 'features.0', 2, 32);
  let channels = 32;
  let index = 1;
  for (const [t, c, n, s] of SETTINGS)
    for (let i = 0; i < n; i++, index++) {
      const strides = i === 0 ? s : 1;
      const at = `features.${index}.conv`;
      const hidden = channels * t;
      let y = x;
      let part = 0;
      if (t !== 1) {
        y = relu6(bn(pointwise(y, `${at}.0.0`, hidden), `${at}.0.1`));
        part = 1;
      }
      y = conv3(y, `${at}.${part}`, strides);
      y = bn(pointwise(y, `${at}.${part + 1}`, c), `${at}.${part + 2}`);
      x = strides === 1 && channels === c ? apply(layers.add(), [x, y]) : y;
      channels = c;
    }
  x = relu6(bn(pointwise(x, `features.${index}.0`, 1280), `features.${index}.1`));
  x = apply(globalAveragePooling2d({}), x);
  if (dropout > 0) x = apply(layers.dropout({ rate: dropout, seed: seeds.layerSeed() }), x);
  const logits = apply(layers.dense({ units: classes, kernelInitializer: seeds.glorotUniform(), name: 'classifier.1' }), x);
  return model({ inputs: images, outputs: logits, name: 'mobilenet_v2' });
}
