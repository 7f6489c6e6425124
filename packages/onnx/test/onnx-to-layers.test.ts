import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { input, layers, model, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { beforeAll, describe, expect, test } from 'vitest';
import { layersToOnnx, type OnnxInitializer, type OnnxNode, onnxModel, OnnxImportError, onnxToLayers } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Seeded weights: the same model on every run. */
function weights(name: string, dims: number[], seed: number, scale = 0.3, offset = 0): OnnxInitializer {
  let state = seed;
  const size = dims.reduce((a, b) => a * b, 1);
  const values = Float32Array.from({ length: size }, () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return offset + scale * (state / 2147483648 - 0.5) * 2;
  });
  return { name, dims, values };
}

/**
 * A small image classifier in ONNX's NCHW, written as torch.onnx.export writes one: a strided stem
 * (padded unevenly, as a TensorFlow-converted model's is)
 * with batch norm and a padded max pool, a residual block, a depthwise convolution with hard-swish
 * and squeeze-and-excitation (hard sigmoid, Mul), clipped ReLU6, a padded average pool, a layer
 * norm decomposed into ReduceMean/Sub/Pow/Sqrt/Div between two transposes (ConvNeXt's, as torch
 * 1.13 exports it), GELU by Erf with a Constant, then Flatten and Gemm.
 */
function classifier(): Uint8Array {
  const init: OnnxInitializer[] = [];
  const nodes: OnnxNode[] = [];
  let seed = 1;
  const w = (name: string, dims: number[], scale = 0.3, offset = 0) => (init.push(weights(name, dims, seed++, scale, offset)), name);
  const node = (op: string, inputs: string[], output: string, attributes?: OnnxNode['attributes']) => (
    nodes.push({ op, inputs, outputs: [output], ...(attributes && { attributes }) }),
    output
  );
  const bn = (x: string, name: string, c: number) =>
    node(
      'BatchNormalization',
      [x, w(`${name}.weight`, [c], 0.5, 1), w(`${name}.bias`, [c]), w(`${name}.running_mean`, [c]), w(`${name}.running_var`, [c], 0.4, 1)],
      `${name}_out`,
      {
        epsilon: { float: 1e-5 },
      },
    );
  let x = node('Conv', ['images', w('stem.weight', [8, 3, 3, 3])], 'stem', { kernel_shape: [3, 3], strides: [2, 2], pads: [0, 1, 1, 0] });
  x = node('Relu', [bn(x, 'stem_bn', 8)], 'stem_relu');
  x = node('MaxPool', [x], 'pool', { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  const branch = bn(
    node('Conv', [x, w('block.conv.weight', [8, 8, 3, 3])], 'block_conv', { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
    'block_bn',
    8,
  );
  x = node('Relu', [node('Add', [branch, x], 'residual')], 'block_relu');
  x = node('Conv', [x, w('dw.weight', [8, 1, 3, 3]), w('dw.bias', [8])], 'dw', { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: 8 });
  x = node('HardSwish', [x], 'dw_act');
  const squeezed = node('GlobalAveragePool', [x], 'se_pool');
  const reduced = node(
    'Relu',
    [node('Conv', [squeezed, w('se.fc1.weight', [4, 8, 1, 1]), w('se.fc1.bias', [4])], 'se_fc1', { kernel_shape: [1, 1] })],
    'se_relu',
  );
  const gate = node(
    'HardSigmoid',
    [node('Conv', [reduced, w('se.fc2.weight', [8, 4, 1, 1]), w('se.fc2.bias', [8])], 'se_fc2', { kernel_shape: [1, 1] })],
    'se_gate',
    {
      alpha: { float: 1 / 6 },
    },
  );
  x = node('Mul', [x, gate], 'se_scaled');
  x = node(
    'Clip',
    [node('Conv', [x, w('expand.weight', [16, 8, 1, 1])], 'expand', { kernel_shape: [1, 1] }), w('six.min', []), w('six.max', [], 0, 6)],
    'relu6',
  );
  x = node('AveragePool', [x], 'avg', { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  // Layer norm over channels, channels last, as torch 1.13 exports ConvNeXt's.
  const last = node('Transpose', [x], 'to_last', { perm: [0, 2, 3, 1] });
  const mean = node('ReduceMean', [last], 'ln_mean', { axes: [-1], keepdims: 1 });
  const centred = node('Sub', [last, mean], 'ln_centred');
  const variance = node('ReduceMean', [node('Pow', [centred, w('ln.two', [], 0, 2)], 'ln_square')], 'ln_var', { axes: [-1], keepdims: 1 });
  const normal = node(
    'Div',
    [centred, node('Sqrt', [node('Add', [variance, w('ln.eps', [], 0, 1e-6)], 'ln_var_eps')], 'ln_std')],
    'ln_norm',
  );
  const scaled = node('Add', [node('Mul', [normal, w('ln.weight', [16], 0.5, 1)], 'ln_scaled'), w('ln.bias', [16])], 'ln_out');
  x = node('Transpose', [scaled], 'to_first', { perm: [0, 3, 1, 2] });
  // GELU, x · ½ · (1 + erf(x / √2)), with ½ from a Constant node.
  nodes.push({
    op: 'Constant',
    inputs: [],
    outputs: ['half'],
    attributes: { value: { tensor: { name: 'half', dims: [], values: Float32Array.of(0.5) } } },
  });
  const erf = node('Erf', [node('Div', [x, w('sqrt2', [], 0, Math.SQRT2)], 'gelu_div')], 'gelu_erf');
  x = node('Mul', [node('Mul', [x, node('Add', [erf, w('one', [], 0, 1)], 'gelu_add')], 'gelu_mul'), 'half'], 'gelu');
  // Flattened with its 2×2 positions, as VGG's head is: ONNX's order (C, H, W), not channels last.
  x = node('Flatten', [x], 'flat', { axis: 1 });
  node('Gemm', [x, w('fc.weight', [10, 64]), w('fc.bias', [10])], 'logits', { transB: 1 });
  return onnxModel(
    {
      nodes,
      inputs: [{ name: 'images', dims: ['N', 3, 16, 16] }],
      outputs: [{ name: 'logits', dims: ['N', 10] }],
      initializers: init,
    },
    { opset: 14 }, // HardSwish came in opset 14
  );
}

describe('onnxToLayers', () => {
  test("imports an NCHW classifier that gives onnxruntime's logits within 1e-4, on channels-last images", async () => {
    const bytes = classifier();
    const net = onnxToLayers(bytes);
    expect(net.inputs[0]!.shape).toEqual([null, 16, 16, 3]);
    const nchw = tf.randomNormal([5, 3, 16, 16], 0, 1, 'float32', 3);
    const session = await InferenceSession.create(bytes);
    const { logits } = await session.run({ images: new Tensor('float32', nchw.dataSync() as Float32Array, [5, 3, 16, 16]) });
    const actual = tf.tidy(() => (net.predict(tf.transpose(nchw, [0, 2, 3, 1])) as tf.Tensor).dataSync());
    const expected = logits!.data as Float32Array;
    expect(actual).toHaveLength(50);
    expect(Math.max(...Array.from(actual, (v, i) => Math.abs(v - expected[i]!)))).toBeLessThan(1e-4);
    // Not a model that answers the same whatever it is given.
    expect(new Set(Array.from(expected, (v) => v.toFixed(3))).size).toBeGreaterThan(40);
  });

  test('its weights train: convolutions, batch norms and the head are named after their ONNX weights, and a step changes them', () => {
    const net = onnxToLayers(classifier());
    const names = net.layers.map((layer) => layer.name);
    expect(names).toEqual(expect.arrayContaining(['stem', 'stem_bn', 'block.conv', 'dw', 'se.fc1', 'expand', 'fc']));
    expect(net.getLayer('dw').getClassName()).toBe('DepthwiseConv2D');
    expect(net.getLayer('stem_bn').getClassName()).toBe('BatchNormalization');
    // The Pow's exponent is a constant of the graph, not a parameter.
    const trainable = net.trainableWeights.map((weight) => weight.originalName);
    expect(trainable.some((name) => name.includes('ln_square'))).toBe(false);
    const before = net.getLayer('stem').getWeights()[0]!.dataSync().slice();
    const images = tf.randomNormal([4, 16, 16, 3], 0, 1, 'float32', 5);
    const optimizer = tf.train.sgd(0.1);
    optimizer.minimize(() => tf.mean(tf.square(net.apply(images, { training: true }) as tf.Tensor)) as tf.Scalar);
    const after = net.getLayer('stem').getWeights()[0]!.dataSync();
    expect(after.some((v, i) => v !== before[i])).toBe(true);
  });

  test('an imported model saves and loads as tfjs-layers JSON (its own layers by class name)', async () => {
    const net = onnxToLayers(classifier());
    let saved: tf.io.ModelArtifacts | undefined;
    await net.save(
      tf.io.withSaveHandler(
        async (artifacts) => ((saved = artifacts), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }),
      ),
    );
    const { loadLayersModel } = await import('@tensorflow/tfjs-layers');
    const loaded = await loadLayersModel(tf.io.fromMemory(saved!));
    const images = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 9);
    const [a, b] = [net, loaded].map((m) => (m.predict(images) as tf.Tensor).dataSync());
    expect(Array.from(b!)).toEqual(Array.from(a!));
  });
});

test('an imported model exports back to ONNX, NHWC in, that onnxruntime runs to its logits within 1e-4', async () => {
  const net = onnxToLayers(classifier());
  const exported = layersToOnnx(net);
  const images = tf.randomNormal([3, 16, 16, 3], 0, 1, 'float32', 11);
  const session = await InferenceSession.create(exported);
  const { logits } = await session.run({ images: new Tensor('float32', images.dataSync() as Float32Array, [3, 16, 16, 3]) });
  const expected = (net.predict(images) as tf.Tensor).dataSync();
  const actual = logits!.data as Float32Array;
  expect(actual).toHaveLength(30);
  expect(Math.max(...Array.from(actual, (v, i) => Math.abs(v - expected[i]!)))).toBeLessThan(1e-4);
});

test("rxvision's own export imports back (NHWC in, residual Sum, logits out): the same model, the same logits", () => {
  const images = input({ shape: [8, 6, 3] });
  const stem = layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(images) as SymbolicTensor;
  const branch = layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }).apply(stem) as SymbolicTensor;
  const added = layers.add().apply([stem, branch]) as SymbolicTensor; // exported as Sum
  const normal = layers.batchNormalization().apply(added) as SymbolicTensor;
  const pooled = layers.maxPooling2d({ poolSize: 2 }).apply(normal) as SymbolicTensor;
  const logits = layers.dense({ units: 5 }).apply(layers.flatten().apply(pooled)) as SymbolicTensor;
  const original = model({ inputs: images, outputs: logits });
  // Batch norm statistics away from 0 and 1, so that they matter.
  const bn = original.layers.find((layer) => layer.getClassName() === 'BatchNormalization')!;
  bn.setWeights(bn.getWeights().map((w, i) => tf.add(tf.mul(tf.randomUniform(w.shape, 0, 1, 'float32', i), 0.5), i === 3 ? 0.5 : 0)));
  const imported = onnxToLayers(layersToOnnx(original), { outputs: ['logits'] });
  expect(imported.inputs[0]!.shape).toEqual([null, 8, 6, 3]);
  // The export's transposes (to NCHW after the input, back to NHWC before the flatten) are relabellings here.
  expect(imported.layers.filter((layer) => layer.getClassName() === 'RxvisionOnnxOp' && layer.getConfig().op === 'transpose')).toEqual([]);
  const x = tf.randomNormal([3, 8, 6, 3], 0, 1, 'float32', 4);
  const [a, b] = [original, imported].map((m) => Array.from((m.predict(x) as tf.Tensor).dataSync()));
  a!.forEach((v, i) => expect(b![i]).toBeCloseTo(v, 5));
  expect(() => onnxToLayers(layersToOnnx(original), { outputs: ['scores'] })).toThrow(
    new OnnxImportError('the graph has no output scores'),
  );
});

describe('bad input: one line each', () => {
  test('bytes that are not ONNX, and a truncated model', () => {
    expect(() => onnxToLayers(new TextEncoder().encode('<html>not found</html>'))).toThrow(OnnxImportError);
    expect(() => onnxToLayers(new TextEncoder().encode('<html>not found</html>'))).toThrow(/^not an ONNX model \(/);
    const bytes = classifier();
    expect(() => onnxToLayers(bytes.subarray(0, Math.floor(bytes.length * 0.6)))).toThrow(/^not an ONNX model \(.*truncated or damaged/);
  });

  test('an operator it does not import, named with its node', () => {
    const bytes = onnxModel({
      nodes: [{ op: 'Celu', inputs: ['x'], outputs: ['y'] }],
      inputs: [{ name: 'x', dims: ['N', 4] }],
      outputs: [{ name: 'y', dims: ['N', 4] }],
    });
    expect(() => onnxToLayers(bytes)).toThrow(new OnnxImportError('node Celu_0 (Celu): the operator Celu is not imported'));
  });

  test('a dynamic dimension other than the batch, until its size is given', () => {
    const bytes = onnxModel({
      nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
      inputs: [{ name: 'x', dims: ['N', 3, 'height', 'width'] }],
      outputs: [{ name: 'y', dims: ['N', 3, 'height', 'width'] }],
    });
    expect(() => onnxToLayers(bytes)).toThrow(/^input x: dimension height is dynamic; give its size \(dimensions: \{ height: … \}\)$/);
    expect(onnxToLayers(bytes, { dimensions: { height: 8, width: 6 } }).inputs[0]!.shape).toEqual([null, 8, 6, 3]);
  });
});
