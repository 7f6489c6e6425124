// The benchmark models (the tutorial MLP; the small CNN: conv3x3 32 → pool → conv3x3 64 → pool
// → dense 10, 'same', ReLU; the residual network of experiments/cifar10-cnn.json; and two shapes the
// speed work was not tuned on: `vgg`, a plain VGG-style CNN of two 3×3 convolutions, batch norm and
// ReLU per block at 32-64-128 with max pooling, and `resnet-wide`, the ResNet at 64-128-256) and one
// SGD step of batch 128 on random data, shared by the benchmarks.
import { createCnn, createResNet, createTutorialModel } from '@rxvision/model';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

export const BATCH = 128;

/** A training step of `model` ('mlp', 'cnn', 'resnet', 'vgg' or 'resnet-wide') on the current backend; resolves when it is done. */
export function trainingStep(model) {
  const network =
    model === 'mlp'
      ? createTutorialModel({ seed: 43 })
      : model === 'resnet' || model === 'resnet-wide'
        ? createResNet({
            inputShape: [32, 32, 3],
            classes: 10,
            stages: model === 'resnet' ? [24, 48, 96] : [64, 128, 256],
            blocksPerStage: 1,
            seed: 43,
          })
        : model === 'vgg'
          ? createCnn({ inputShape: [32, 32, 3], classes: 10, blocks: [32, 64, 128], convolutionsPerBlock: 2, seed: 43 })
          : tfl.sequential({
              layers: [
                tfl.layers.conv2d({ inputShape: [32, 32, 3], filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' }),
                tfl.layers.maxPooling2d({ poolSize: 2 }),
                tfl.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same', activation: 'relu' }),
                tfl.layers.maxPooling2d({ poolSize: 2 }),
                tfl.layers.flatten(),
                tfl.layers.dense({ units: 10 }),
              ],
            });
  const optimizer = tf.train.sgd(0.01);
  const xs = tf.randomUniform([BATCH, 32, 32, 3]);
  const ys = tf.oneHot(tf.randomUniform([BATCH], 0, 10, 'int32'), 10);
  return async () => {
    // apply, as fit does: predict() would split the batch into batches of 32
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, network.apply(xs, { training: true })), true);
    await loss.data(); // as PyTorch's loss.item(): the step has finished
    loss.dispose();
  };
}
