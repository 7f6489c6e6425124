// Training speed of the tutorial model at batch 128 on the real CIFAR-10, per backend, and the
// share of wall time spent in the input pipeline (reading pixels, scaling, making tensors).
// Usage: npx nx run benchmarks:train  [-- --steps N --backends wasm,cpu]
//        node tools/benchmarks/train.js [--steps N] [--backends wasm,wasm-stock,cpu]
// `wasm-stock` is wasm without the explicit-transpose matMul kernel, for comparison.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { selectBackend } from '@rxvision/backend/node';
import { CIFAR10_SOURCE_VARIABLE, openImageDataset, prepareCifar10 } from '@rxvision/dataset/node';
import { createTutorialModel } from '@rxvision/model';
import { batch, prefetch, rowIndices, shuffle, toTensors } from '@rxvision/stream';
import { fit } from '@rxvision/train';
import { memory } from '@tensorflow/tfjs-core';
import { defer, lastValueFrom, map, take, tap } from 'rxjs';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '40' },
    backends: { type: 'string', default: 'wasm-stock,wasm,cpu' },
    source: { type: 'string' },
  },
});
const steps = Number(values.steps);
const source = values.source ?? process.env[CIFAR10_SOURCE_VARIABLE];
const dir = await mkdtemp(join(tmpdir(), 'rxvision-bench-train-'));
try {
  await prepareCifar10({ dataDir: dir, ...(source && { source }) });
  const train = await openImageDataset(join(dir, 'train.arrow'));
  const results = [];
  // wasm-stock must run before wasm: the explicit-transpose kernel, once installed, stays.
  for (const name of values.backends.split(',')) {
    const report = await selectBackend(name === 'wasm-stock' ? 'wasm' : name, { explicitTransposeMatMul: name !== 'wasm-stock' });
    let inputMs = 0;
    const timed = (pending) =>
      defer(() => {
        const started = performance.now();
        return pending.pipe(tap(() => (inputMs += performance.now() - started)));
      });
    const trainBatches = (epoch) =>
      rowIndices(train.length).pipe(shuffle({ seed: 43, epoch }), batch(128), toTensors(train), map(timed), prefetch(1));
    const model = createTutorialModel({ seed: 43 });
    const warmup = 3;
    let started = 0;
    let samples = 0;
    await lastValueFrom(
      fit(model, { schedule: [{ epochs: 1, learningRate: 0.05 }], trainBatches }).pipe(
        take(warmup + steps),
        tap((event) => {
          if (event.step === warmup) {
            started = performance.now();
            inputMs = 0;
          } else if (event.step > warmup) samples += event.size;
        }),
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    results.push({
      backend: name,
      samplesPerSecond: samples / seconds,
      inputShare: inputMs / 1000 / seconds,
      steps,
      tensors: memory().numTensors,
    });
    console.log(
      `${name.padEnd(10)} ${(samples / seconds).toFixed(0).padStart(5)} samples/s  input pipeline ${((100 * inputMs) / 1000 / seconds).toFixed(2)}% of wall time  (${report.summary})`,
    );
    model.dispose();
  }
  console.log(JSON.stringify(results));
} finally {
  await rm(dir, { recursive: true, force: true });
}
