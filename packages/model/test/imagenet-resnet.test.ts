import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  checkImageNetResNetOptions,
  checkMobileNetV2Options,
  checkMobileNetV3Options,
  createImageNetResNet,
  createMobileNetV2,
  createMobileNetV3,
} from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const trainable = (m: ReturnType<typeof createImageNetResNet>) =>
  m.trainableWeights.reduce((sum, w) => sum + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);

describe('createImageNetResNet', () => {
  // torchvision 0.14's own counts (sum of p.numel() over model.parameters(), its model documentation's "num_params").
  test.each([
    [18, 11_689_512],
    [34, 21_797_672],
    [50, 25_557_032],
  ] as const)("ResNet-%i has torchvision's %i parameters for 224×224 images in 1000 classes", (depth, parameters) => {
    const options = { inputShape: [224, 224, 3] as const, classes: 1000, depth };
    const net = createImageNetResNet(options);
    expect(trainable(net)).toBe(parameters);
    expect(net.countParams()).toBe(checkImageNetResNetOptions(options)); // the check counts the running statistics too
    net.dispose();
  });

  test("224×224 images go down to 7×7 before pooling; layers carry torchvision's names; batch norm keeps 0.9 of its statistics", () => {
    const net = createImageNetResNet({ inputShape: [224, 224, 3], classes: 5, depth: 18, seed: 1 });
    const last = net.getLayer('layer4.1.bn2');
    expect(last.outputShape).toEqual([null, 7, 7, 512]);
    expect(net.layers.map((l) => l.name)).toEqual(
      expect.arrayContaining(['conv1', 'bn1', 'layer1.0.conv1', 'layer2.0.downsample.0', 'fc']),
    );
    expect(net.getLayer('bn1').getConfig().momentum).toBe(0.9);
    expect(net.outputs[0]!.shape).toEqual([null, 5]);
    net.dispose();
    // Computed on smaller images (the cpu backend takes seconds for one at 224): logits of the right shape, finite.
    const small = createImageNetResNet({ inputShape: [64, 64, 3], classes: 5, depth: 18, seed: 1 });
    const logits = tf.tidy(() => Array.from((small.predict(tf.randomUniform([2, 64, 64, 3], 0, 1, 'float32', 3)) as tf.Tensor).dataSync()));
    expect(logits).toHaveLength(10);
    expect(logits.every(Number.isFinite)).toBe(true);
    small.dispose();
  });

  test('the same seed gives the same weights; what it cannot build is one line', () => {
    const first = (seed: number) => {
      const net = createImageNetResNet({ inputShape: [32, 32, 3], classes: 2, depth: 18, seed });
      const kernel = Array.from(net.getLayer('layer3.0.conv1').getWeights()[0]!.dataSync().slice(0, 8));
      net.dispose();
      return kernel;
    };
    expect(first(5)).toEqual(first(5));
    expect(first(5)).not.toEqual(first(6));
    expect(() => checkImageNetResNetOptions({ inputShape: [16, 16, 3], classes: 2, depth: 18 })).toThrow(
      'createImageNetResNet: images of at least 32×32 (it downsamples 32 times), got 16×16',
    );
    expect(() => checkImageNetResNetOptions({ inputShape: [64, 64, 3], classes: 2, depth: 101 as 18 })).toThrow(
      'createImageNetResNet: depth must be 18, 34 or 50, got 101',
    );
  });
});

describe('createMobileNetV2', () => {
  test("torchvision's 3,504,872 parameters for 224×224 images in 1000 classes; depthwise blocks down to 7×7; torchvision's names", () => {
    const options = { inputShape: [224, 224, 3] as const, classes: 1000 };
    const net = createMobileNetV2(options);
    expect(trainable(net)).toBe(3_504_872);
    expect(net.countParams()).toBe(checkMobileNetV2Options(options));
    expect(net.getLayer('features.18.1').outputShape).toEqual([null, 7, 7, 1280]);
    expect(net.getLayer('features.2.conv.1.0').getClassName()).toBe('DepthwiseConv2D');
    expect(net.layers.map((l) => l.name)).toEqual(expect.arrayContaining(['features.0.0', 'features.17.conv.3', 'classifier.1']));
    const logits = tf.tidy(() => (net.predict(tf.randomUniform([1, 224, 224, 3], 0, 1, 'float32', 2)) as tf.Tensor).shape);
    expect(logits).toEqual([1, 1000]);
    net.dispose();
  });
});

describe('createMobileNetV3', () => {
  // torchvision 0.14's own counts, as above; the width multiplier's from torchvision(width_mult=0.5).
  test.each([
    ['small', 1, 2_542_856],
    ['large', 1, 5_483_032],
    ['large', 0.5, 1_734_576],
  ] as const)(
    "%s at width %d has torchvision's %i parameters for 224×224 images in 1000 classes",
    (variant, widthMultiplier, parameters) => {
      const options = { inputShape: [224, 224, 3] as const, classes: 1000, variant, widthMultiplier };
      const net = createMobileNetV3(options);
      expect(trainable(net)).toBe(parameters);
      expect(net.countParams()).toBe(checkMobileNetV3Options(options));
      expect(net.getLayer('features.1.block.0.0').getClassName()).toBe('DepthwiseConv2D');
      const logits = tf.tidy(() => (net.predict(tf.randomUniform([1, 224, 224, 3], 0, 1, 'float32', 2)) as tf.Tensor).shape);
      expect(logits).toEqual([1, 1000]);
      net.dispose();
    },
  );

  test('a variant or width it does not build is one line', () => {
    const options = { inputShape: [64, 64, 3] as const, classes: 10 };
    expect(() => createMobileNetV3({ ...options, variant: 'medium' as 'small' })).toThrow(
      'createMobileNetV3: variant must be small or large, got medium',
    );
    expect(() => createMobileNetV3({ ...options, variant: 'small', widthMultiplier: 0 })).toThrow(
      'createMobileNetV3: widthMultiplier must be in (0, 4], got 0',
    );
    expect(() => createMobileNetV3({ ...options, inputShape: [16, 16, 3], variant: 'small' })).toThrow('at least 32×32');
  });
});
