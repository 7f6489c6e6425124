import '@tensorflow/tfjs-backend-cpu';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createMobileNetV3 } from '@rxvision/model';
import { layersToOnnx, onnxToLayers } from '@rxvision/onnx';
import * as tf from '@tensorflow/tfjs-core';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { beforeAll, expect, test } from 'vitest';

// torchvision's mobilenet_v3_small(width_mult=0.25, num_classes=10), exported by torch.onnx.export with
// its batch norms and statistics drawn (tools/torchvision/export_classifiers.py): @rxvision/onnx's fixture.
const fixtures = new URL('../../onnx/test/fixtures/torchvision/', import.meta.url);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

test("createMobileNetV3 is torchvision's: given its exported weights by layer name, it gives onnxruntime's logits", async () => {
  const bytes = readFileSync(fileURLToPath(new URL('mobilenet_v3_small.onnx', fixtures)));
  const exported = onnxToLayers(bytes);
  const ours = createMobileNetV3({ variant: 'small', widthMultiplier: 0.25, inputShape: [32, 32, 3], classes: 10, dropout: 0 });
  const weighted = ours.layers.filter((layer) => layer.getWeights().length > 0);
  for (const layer of weighted) layer.setWeights(exported.getLayer(layer.name).getWeights());
  // Every weight of torchvision's is in one of ours: the same layers, the same shapes.
  const count = (layers: typeof weighted) => layers.reduce((sum, layer) => sum + layer.countParams(), 0);
  expect(count(weighted)).toBe(count(exported.layers.filter((layer) => layer.getWeights().length > 0)));

  const pixels = readFileSync(fileURLToPath(new URL('images.bin', fixtures)));
  const images = tf.tensor4d(
    Float32Array.from(pixels, (v) => v / 255 - 0.5),
    [32, 32, 32, 3],
  );
  const nchw = tf.transpose(images, [0, 3, 1, 2]);
  const session = await InferenceSession.create(bytes);
  const { logits } = await session.run({ images: new Tensor('float32', nchw.dataSync() as Float32Array, nchw.shape) });
  const expected = logits!.data as Float32Array;
  const actual = (ours.predict(images) as tf.Tensor).dataSync();
  const difference = Math.max(...Array.from(actual, (v, i) => Math.abs(v - expected[i]!)));
  // torchvision's head starts at N(0, 0.01): logits near 0.1, so the difference is held to 1e-4 of them.
  const scale = Math.max(...Array.from(expected, Math.abs));
  console.log(`MobileNetV3-small: logits within ${difference.toExponential(2)} of onnxruntime's (largest ${scale.toFixed(3)})`);
  expect(difference).toBeLessThan(1e-4 * scale);

  // Exported back (a run's model.onnx: hard-swish as rescaling, ReLU6 and Mul), onnxruntime agrees.
  const back = await InferenceSession.create(layersToOnnx(ours));
  const { logits: again } = await back.run({ images: new Tensor('float32', images.dataSync() as Float32Array, images.shape) });
  const exportDifference = Math.max(...Array.from(again!.data as Float32Array, (v, i) => Math.abs(v - actual[i]!)));
  expect(exportDifference).toBeLessThan(1e-4 * scale);
});
