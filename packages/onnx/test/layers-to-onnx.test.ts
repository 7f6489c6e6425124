import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { input, type LayersModel, layers, model, sequential, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { beforeAll, describe, expect, test } from 'vitest';
import { classifierMetadata, layersToOnnx, onnxMetadata, onnxModel, OnnxExportError, readClassifierMetadata } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Weights drawn anew (batch norm statistics too, so that normalisation is not the identity), seeded. */
function randomise(m: LayersModel, seed: number): void {
  m.layers.forEach((layer, l) =>
    layer.setWeights(
      layer
        .getWeights()
        .map((w, i) =>
          w.shape.length === 1 && layer.getClassName() === 'BatchNormalization' && i === 3
            ? tf.randomUniform(w.shape, 0.5, 2, 'float32', seed + l * 10 + i)
            : tf.randomNormal(w.shape, 0, 0.5, 'float32', seed + l * 10 + i),
        ),
    ),
  );
}

async function compare(m: LayersModel, batch = 3): Promise<void> {
  const shape = m.inputs[0]!.shape.slice(1) as number[];
  const images = tf.randomNormal([batch, ...shape], 0, 1, 'float32', 7);
  const expected = tf.tidy(() => {
    const logits = m.predict(images) as tf.Tensor;
    return [logits.dataSync(), tf.softmax(logits).dataSync()] as const;
  });
  const session = await InferenceSession.create(layersToOnnx(m));
  const outputs = await session.run({ images: new Tensor('float32', images.dataSync() as Float32Array, [batch, ...shape]) });
  const near = (actual: ArrayLike<number>, wanted: ArrayLike<number>) =>
    Array.from(actual).every((v, i) => Math.abs(v - wanted[i]!) <= 1e-4 * Math.max(1, Math.abs(wanted[i]!)));
  expect(near(outputs.logits!.data as Float32Array, expected[0])).toBe(true);
  expect(near(outputs.probabilities!.data as Float32Array, expected[1])).toBe(true);
  expect(outputs.probabilities!.dims).toEqual([batch, m.outputs[0]!.shape[1]]);
  images.dispose();
  await session.release();
}

describe('layersToOnnx', () => {
  test('a dense network (flatten, ReLU and tanh activations, dropout) gives the tfjs logits and softmax', async () => {
    const m = sequential({
      layers: [
        layers.flatten({ inputShape: [4, 5, 3] }),
        layers.dense({ units: 16, activation: 'relu' }),
        layers.dropout({ rate: 0.5 }),
        layers.dense({ units: 8, activation: 'tanh' }),
        layers.dense({ units: 5 }),
      ],
    });
    randomise(m, 1);
    await compare(m);
  });

  test('a CNN (same and valid convolutions, strides, batch norm, max and average pooling, flatten of NCHW values) matches', async () => {
    const m = sequential({
      layers: [
        layers.conv2d({ inputShape: [9, 7, 3], filters: 4, kernelSize: 3, padding: 'same', useBias: false }),
        layers.batchNormalization({}),
        layers.reLU(),
        layers.conv2d({ filters: 6, kernelSize: [3, 2], strides: 2, padding: 'same', activation: 'relu' }),
        layers.maxPooling2d({ poolSize: 2, padding: 'same' }),
        layers.conv2d({ filters: 5, kernelSize: 1, padding: 'valid' }),
        layers.averagePooling2d({ poolSize: 1 }),
        layers.flatten(),
        layers.dense({ units: 3 }),
      ],
    });
    randomise(m, 2);
    await compare(m);
  });

  test('a residual network (adds of branches, a strided 1×1 shortcut, concatenation, global pooling) matches', async () => {
    const images = input({ shape: [8, 8, 3] });
    const conv = (x: SymbolicTensor, filters: number, kernelSize: number, strides = 1) =>
      layers.conv2d({ filters, kernelSize, strides, padding: 'same', useBias: false }).apply(x) as SymbolicTensor;
    const bn = (x: SymbolicTensor) => layers.batchNormalization({}).apply(x) as SymbolicTensor;
    const relu = (x: SymbolicTensor) => layers.reLU().apply(x) as SymbolicTensor;
    const stem = relu(bn(conv(images, 4, 3)));
    const branch = bn(conv(relu(bn(conv(stem, 6, 3, 2))), 6, 3));
    const shortcut = bn(conv(stem, 6, 1, 2));
    const added = relu(layers.add().apply([branch, shortcut]) as SymbolicTensor);
    const joined = layers.concatenate().apply([added, shortcut]) as SymbolicTensor;
    const pooled = layers.globalAveragePooling2d({}).apply(joined) as SymbolicTensor;
    const m = model({ inputs: images, outputs: layers.dense({ units: 10 }).apply(pooled) as SymbolicTensor });
    randomise(m, 3);
    await compare(m, 5);
  });

  test('frozen weights (listed after the trainable ones) are read by name: a frozen kernel and batch-norm scale', async () => {
    const m = sequential({
      layers: [
        layers.conv2d({ inputShape: [6, 6, 3], filters: 4, kernelSize: 3, padding: 'same' }),
        layers.batchNormalization({}),
        layers.flatten(),
        layers.dense({ units: 3 }),
      ],
    });
    m.build(m.inputs[0]!.shape);
    randomise(m, 5);
    for (const weight of m.weights)
      if (/\/(kernel|gamma)$/.test(weight.originalName) && !weight.originalName.startsWith('dense')) weight.trainable = false;
    expect(m.getLayer(m.layers[0]!.name).getWeights()[0]!.shape).toEqual([4]); // the bias first, now
    await compare(m);
  });

  test("GELU activations and a rescaling (airbench's head) match", async () => {
    const m = sequential({
      layers: [
        layers.conv2d({ inputShape: [6, 6, 3], filters: 4, kernelSize: 2, padding: 'valid' }),
        layers.activation({ activation: 'gelu' }),
        layers.maxPooling2d({ poolSize: 5 }),
        layers.flatten(),
        layers.dense({ units: 3, useBias: false, activation: 'gelu' }),
        layers.rescaling({ scale: 1 / 9, offset: 0.25 }),
      ],
    });
    randomise(m, 4);
    await compare(m);
  });

  test('says which layer it cannot translate', () => {
    const m = sequential({
      layers: [
        layers.conv2d({ inputShape: [8, 8, 3], filters: 2, kernelSize: 3, dilationRate: 2 }),
        layers.flatten(),
        layers.dense({ units: 2 }),
      ],
    });
    expect(() => layersToOnnx(m)).toThrow(OnnxExportError);
    expect(() => layersToOnnx(m)).toThrow(/conv2d.*\(Conv2D\): dilated convolution/);
    const upsampled = sequential({
      layers: [layers.upSampling2d({ inputShape: [4, 4, 3] }), layers.flatten(), layers.dense({ units: 2 })],
    });
    expect(() => layersToOnnx(upsampled)).toThrow(/\(UpSampling2D\): no ONNX translation here/);
  });
});

describe('ONNX metadata', () => {
  test('a classifier’s class names, image shape and normalisation travel in the model and read back', async () => {
    const m = sequential({ layers: [layers.flatten({ inputShape: [2, 2, 3] }), layers.dense({ units: 2 })] });
    const classifier = {
      classes: ['cat', 'dog'],
      imageShape: [2, 2, 3] as const,
      normalize: { mean: [0.5, 0.4, 0.3], std: [0.2, 0.2, 0.25] },
    };
    const bytes = layersToOnnx(m, { metadata: classifierMetadata(classifier) });
    expect(readClassifierMetadata(bytes)).toEqual(classifier);
    // onnxruntime reads the same entries: the metadata is where ONNX keeps it, not a private field.
    const session = await InferenceSession.create(bytes);
    expect(session.inputNames).toEqual(['images']);
    expect(onnxMetadata(bytes)['rxvision.preprocessing']).toMatch(/pixels \/ 255, then \(x - mean\) \/ std/);
  });

  test('a model without a classifier’s metadata is refused in one line', () => {
    const bytes = onnxModel(
      {
        nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
        inputs: [{ name: 'x', dims: ['n'] }],
        outputs: [{ name: 'y', dims: ['n'] }],
      },
      { metadata: { author: 'someone' } },
    );
    expect(onnxMetadata(bytes)).toEqual({ author: 'someone' });
    expect(() => readClassifierMetadata(bytes)).toThrow('the model has no class names (rxvision.classes): not exported as a classifier');
    expect(() => onnxMetadata(Uint8Array.from([0x0a, 0x05, 1]))).toThrow('not a protobuf message');
  });

  test('refuses a dimension that is not a size', () => {
    expect(() => onnxModel({ nodes: [], inputs: [{ name: 'x', dims: [-1] }], outputs: [] })).toThrow(
      'onnxModel: x has dimension -1, not a size or a name',
    );
  });

  test('negative integer attributes are written as int64', async () => {
    const bytes = onnxModel({
      nodes: [{ op: 'Softmax', inputs: ['x'], outputs: ['y'], attributes: { axis: -1 } }],
      inputs: [{ name: 'x', dims: [2, 3] }],
      outputs: [{ name: 'y', dims: [2, 3] }],
    });
    const session = await InferenceSession.create(bytes);
    const { y } = await session.run({ x: new Tensor('float32', Float32Array.from([0, 0, 0, 1, 1, 1]), [2, 3]) });
    expect(Array.from(y!.data as Float32Array).map((v) => v.toFixed(4))).toEqual(Array(6).fill('0.3333'));
  });
});
