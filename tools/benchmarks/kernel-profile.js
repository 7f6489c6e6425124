// Where a training step's time goes: milliseconds per kernel per step, for the tutorial MLP or the
// small CNN of versus-pytorch.js, the ResNet of experiments/cifar10-cnn.json, or the vgg and
// resnet-wide shapes of training-step.js, on one backend. Synchronous kernels (cpu, wasm, onednn,
// onnxruntime) only: a GPU backend's kernels return before their work is done.
// Usage: node tools/benchmarks/kernel-profile.js [--model cnn|mlp|resnet|vgg|resnet-wide] [--backend onednn] [--threads 2] [--steps 10]
// onnxruntime wants GLIBC_TUNABLES set (see docs/design/cpu-backend.md); onednn does not. Never asserted in tests.
import { parseArgs } from 'node:util';
import { selectBackend } from '@rxvision/backend/node';
import { timeKernels } from './kernel-times.js';
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

const kernels = timeKernels();
for (let i = 0; i < 3; i++) await step();
kernels.reset();
const steps = Number(values.steps);
const started = performance.now();
for (let i = 0; i < steps; i++) await step();
const perStep = (performance.now() - started) / steps;
console.log(`${values.model}: ${perStep.toFixed(0)} ms a step, ${((BATCH * 1000) / perStep).toFixed(0)} samples/s`);
kernels.print(steps, 12);
