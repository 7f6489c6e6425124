// Where a training step's time goes: milliseconds per kernel per step, for the tutorial MLP or the
// small CNN of versus-pytorch.js, the ResNet of experiments/cifar10-cnn.json, or the vgg and
// resnet-wide shapes of training-step.js, on one backend. Synchronous kernels (cpu, wasm, onednn,
// onnxruntime) only: a GPU backend's kernels return before their work is done.
// Usage: node tools/benchmarks/kernel-profile.js [--model cnn|mlp|resnet|vgg|resnet-wide] [--backend onednn] [--threads 2] [--steps 10]
// onnxruntime wants GLIBC_TUNABLES set (see docs/design/cpu-backend.md); onednn does not. Never asserted in tests.
import { parseArgs } from 'node:util';
import { selectBackend } from '@rxvision/backend/node';
import * as tf from '@tensorflow/tfjs-core';
import { BATCH, trainingStep } from './training-step.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'cnn' },
    backend: { type: 'string', default: 'onednn' },
    threads: { type: 'string', default: '2' },
    steps: { type: 'string', default: '10' },
  },
});
const report = await selectBackend(values.backend, { threads: Number(values.threads) });
console.log(report.summary);
const step = trainingStep(values.model);

// Every kernel call passes through the engine's runKernelFunc: time it there.
const totals = new Map();
const engine = tf.engine();
const runKernelFunc = engine.runKernelFunc.bind(engine);
engine.runKernelFunc = (call) => {
  const started = performance.now();
  const result = runKernelFunc(call);
  const name = call.kernelName ?? '(custom gradient)';
  totals.set(name, (totals.get(name) ?? 0) + performance.now() - started);
  return result;
};
for (let i = 0; i < 3; i++) await step();
totals.clear();
const steps = Number(values.steps);
const started = performance.now();
for (let i = 0; i < steps; i++) await step();
const perStep = (performance.now() - started) / steps;
console.log(`${values.model}: ${perStep.toFixed(0)} ms a step, ${((BATCH * 1000) / perStep).toFixed(0)} samples/s`);
for (const [kernel, ms] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`  ${kernel.padEnd(24)} ${(ms / steps).toFixed(1).padStart(6)} ms`);
