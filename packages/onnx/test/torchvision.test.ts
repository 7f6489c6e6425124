import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { beforeAll, describe, expect, test } from 'vitest';
import { onnxToLayers } from '../src/index.js';
import type { LayersModel } from '@tensorflow/tfjs-layers';

type Layer = LayersModel['layers'][number];

/**
 * torchvision 0.14's classifiers as `torch.onnx.export` writes them, made by
 * `tools/torchvision/export_classifiers.py`: narrowed here (committed), full size at 224 px when
 * RXVISION_TORCHVISION_DIR names a folder the script wrote with --full.
 */
const folder = process.env['RXVISION_TORCHVISION_DIR'] ?? fileURLToPath(new URL('fixtures/torchvision/', import.meta.url));
const ARCHITECTURES = ['resnet18', 'resnet50', 'mobilenet_v2', 'mobilenet_v3_small', 'efficientnet_b0', 'convnext_tiny'];
// Full size, no seed keeps every ReLU input clear of its kink, so the script writes gradients only narrowed.
const WITH_GRADIENTS = process.env['RXVISION_TORCHVISION_DIR'] ? [] : ['resnet18', 'mobilenet_v2'];
const GRADIENT_BATCH = 8;
// Full size on the cpu backend, ConvNeXt-T takes about 17 minutes for its 32 images.
const TIMEOUT = process.env['RXVISION_TORCHVISION_DIR'] ? 3_600_000 : 600_000;
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The 32 CIFAR-10 test images normalised as the script does, each pixel repeated to `size`: NHWC. */
function images(size: number): tf.Tensor4D {
  const bytes = readFileSync(join(folder, 'images.bin'));
  const count = bytes.length / (32 * 32 * 3);
  const pixels = Float32Array.from(bytes, (v, i) => (Math.fround(v / 255) - MEAN[i % 3]!) / STD[i % 3]!);
  const repeat = size / 32;
  return tf.tidy(() => {
    const small = tf.tensor4d(pixels, [count, 32, 32, 3]);
    const tall = tf.reshape(tf.tile(tf.reshape(small, [count, 32, 1, 32, 3]), [1, 1, repeat, 1, 1]), [count, size, 32, 3]);
    return tf.reshape(tf.tile(tf.reshape(tall, [count, size, 32, 1, 3]), [1, 1, 1, repeat, 1]), [count, size, size, 3]);
  });
}

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let most = 0;
  for (let i = 0; i < a.length; i++) most = Math.max(most, Math.abs(a[i]! - b[i]!));
  return most;
}

/** PyTorch's gradient of a parameter in the layout of the imported layer's weight. */
function inLayerLayout(layer: Layer, parameter: string, gradient: tf.Tensor): tf.Tensor {
  if (parameter === 'bias') return gradient;
  switch (layer.getClassName()) {
    case 'Conv2D':
      return tf.transpose(gradient, [2, 3, 1, 0]);
    case 'DepthwiseConv2D': {
      const [out, , kh, kw] = gradient.shape as number[];
      const channels = layer.getWeights()[0]!.shape[2]!;
      return tf.transpose(tf.reshape(gradient, [channels, out! / channels, kh!, kw!]), [2, 3, 0, 1]);
    }
    case 'Dense':
      return tf.transpose(gradient);
    default:
      return gradient;
  }
}

describe.each(ARCHITECTURES)('torchvision %s, imported', (architecture) => {
  const bytes = readFileSync(join(folder, `${architecture}.onnx`));

  test(
    "gives onnxruntime's logits on 32 real images",
    async () => {
      const imported = onnxToLayers(bytes);
      const size = imported.inputs[0]!.shape[1]!;
      const x = images(size);
      const session = await InferenceSession.create(bytes);
      const nchw = tf.transpose(x, [0, 3, 1, 2]);
      const { logits } = await session.run({ images: new Tensor('float32', nchw.dataSync() as Float32Array, nchw.shape) });
      const ours = tf.tidy(() => (imported.predict(x, { batchSize: 8 }) as tf.Tensor).dataSync());
      const expected = logits!.data as Float32Array;
      const difference = maxAbsDifference(ours, expected);
      // Within 1e-4, of the logits' size where they exceed 1 (full size, drawn statistics, 50 layers deep).
      const scale = Math.max(1, ...Array.from(expected, Math.abs));
      console.log(
        `${architecture}: ${imported.countParams()} parameters, logits within ${difference.toExponential(2)} of onnxruntime's (largest ${scale.toFixed(1)})`,
      );
      expect(difference).toBeLessThan(1e-4 * scale);
      tf.dispose([x, nchw]);
    },
    TIMEOUT,
  );
});

describe.each(WITH_GRADIENTS)('torchvision %s, imported and trained', (architecture) => {
  test("one training step gives PyTorch's loss and gradients", () => {
    const reference = JSON.parse(readFileSync(join(folder, `${architecture}.gradients.json`), 'utf8')) as {
      loss: number;
      gradients: { name: string; dims: number[]; offset: number }[];
    };
    const values = new Float32Array(readFileSync(join(folder, `${architecture}.gradients.bin`)).buffer.slice(0));
    const imported = onnxToLayers(readFileSync(join(folder, `${architecture}.onnx`)));
    // The script's batch: the first 8 images, chosen so that no ReLU input sits at its kink.
    const x = tf.slice(images(imported.inputs[0]!.shape[1]!), 0, GRADIENT_BATCH);
    const labels = tf.oneHot(tf.tensor1d(readFileSync(join(folder, 'labels.bin')).subarray(0, GRADIENT_BATCH), 'int32'), 10);
    const variables = imported.trainableWeights.map((weight) => weight.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(
      () => tf.losses.softmaxCrossEntropy(labels, imported.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      variables,
    );
    expect(value.dataSync()[0]).toBeCloseTo(reference.loss, 4);
    let most = 0;
    for (const { name, dims, offset } of reference.gradients) {
      const [, layerName, parameter] = /^(.*)\.(weight|bias)$/.exec(name)!;
      const layer = imported.getLayer(layerName!);
      const size = dims.reduce((a, b) => a * b, 1);
      const expected = inLayerLayout(layer, parameter!, tf.tensor(values.subarray(offset, offset + size), dims));
      const weight = layer.trainableWeights[parameter === 'weight' ? 0 : 1]!;
      // Relative to the gradient's scale (MobileNetV2's first ones reach 60, summed over 2,048 positions).
      const scale = Math.max(1, tf.max(tf.abs(expected)).dataSync()[0]!);
      most = Math.max(most, maxAbsDifference(grads[(weight.read() as tf.Variable).name]!.dataSync(), expected.dataSync()) / scale);
    }
    console.log(`${architecture}: ${reference.gradients.length} gradients within ${most.toExponential(2)} of PyTorch's (relative)`);
    expect(most).toBeLessThan(1e-3);
    expect(Object.keys(grads)).toHaveLength(reference.gradients.length);
  }, 600_000);
});
