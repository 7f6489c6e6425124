// ResNet-18 in ImageNet's shape (7×7 stride-2 stem, max pool, 11.2 M parameters with 10 classes) at
// 224×224, batch 32: rxvision's training step (`createImageNetResNet({ depth: 18 })`, SGD with
// momentum, on the backend `auto` picks or --backend) against torchvision's resnet18 on the same batch
// and threads (torch_resnet18_step.py), in one run, with each side's peak RSS.
// Usage: node tools/benchmarks/imagenet-step.js [--threads 2] [--batch 32] [--steps 5] [--backend auto] [--precision bfloat16] [--profile]
// --precision bfloat16: rxvision's convolutions and products in bf16 mixed precision, PyTorch's forward under CPU autocast.
// --profile also prints rxvision's milliseconds per kernel per step (synchronous backends only).
// PyTorch: Debian's python3-torchvision with libopenblas0-pthread, OPENBLAS_CORETYPE and
// OPENBLAS_L2_SIZE unset. Never asserted in tests: timings are noisy.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    batch: { type: 'string', default: '32' },
    steps: { type: 'string', default: '5' },
    backend: { type: 'string', default: 'auto' },
    precision: { type: 'string', default: 'float32' },
    profile: { type: 'boolean' },
    worker: { type: 'boolean' }, // internal: measure rxvision in this process
  },
});
const [threads, batch, steps] = [values.threads, values.batch, values.steps].map(Number);

if (values.worker) {
  console.log(JSON.stringify(await measure()));
} else {
  const env = { ...process.env };
  delete env.GLIBC_TUNABLES;
  const args = [
    '--threads',
    values.threads,
    '--batch',
    values.batch,
    '--steps',
    values.steps,
    '--backend',
    values.backend,
    '--precision',
    values.precision,
  ];
  if (values.profile) args.push('--profile');
  // The last line a side prints is its result; the lines before (--profile's kernels) are shown.
  const run = (command, argv, options) => {
    const lines = execFileSync(command, argv, { encoding: 'utf8', ...options })
      .trim()
      .split('\n');
    if (lines.length > 1) console.log(lines.slice(0, -1).join('\n'));
    return JSON.parse(lines.at(-1));
  };
  const ours = run(process.execPath, [fileURLToPath(import.meta.url), '--worker', ...args], { env });
  const torchEnv = { ...process.env };
  delete torchEnv.OPENBLAS_CORETYPE; // OpenBLAS's older kernel is ~1.5x slower
  delete torchEnv.OPENBLAS_L2_SIZE;
  const torch = run('/usr/bin/python3', [join(here, 'torch_resnet18_step.py'), ...[threads, batch, steps].map(String), values.precision], {
    env: torchEnv,
  });
  const row = (name, r) =>
    `${name.padEnd(28)} ${r.stepSeconds.toFixed(2)} s a step  ${r.samplesPerSecond.toFixed(1)} images/s  peak RSS ${r.peakRssMb.toFixed(0)} MB`;
  console.log(row(`rxvision (${ours.backend})`, ours));
  console.log(row('PyTorch (torchvision)', torch));
  console.log(
    `ratio ${(torch.stepSeconds / ours.stepSeconds).toFixed(2)}x PyTorch's speed; batch ${batch} at 224 px, ${threads} threads, ${values.precision}`,
  );
  console.log(JSON.stringify({ threads, batch, steps, precision: values.precision, rxvision: ours, pytorch: torch }));
}

async function measure() {
  const { selectBackend } = await import('@rxvision/backend/node');
  const { createImageNetResNet } = await import('@rxvision/model');
  const tf = await import('@tensorflow/tfjs-core');
  const report = await selectBackend(values.backend, { threads, precision: values.precision });
  const network = createImageNetResNet({ depth: 18, inputShape: [224, 224, 3], classes: 10, seed: 43 });
  const optimizer = tf.train.momentum(0.01, 0.9);
  const xs = tf.randomUniform([batch, 224, 224, 3]);
  const ys = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32'), 10);
  const step = async () => {
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, network.apply(xs, { training: true })), true);
    await loss.data(); // as PyTorch's loss.item(): the step has finished
    loss.dispose();
  };
  for (let i = 0; i < 2; i++) await step();
  const kernels = values.profile ? (await import('./kernel-times.js')).timeKernels() : undefined;
  kernels?.reset();
  const started = performance.now();
  for (let i = 0; i < steps; i++) await step();
  const stepSeconds = (performance.now() - started) / 1000 / steps;
  kernels?.print(steps, 12);
  return {
    backend: `${report.backend}, ${report.threads ?? threads} threads${report.precision === 'bfloat16' ? ', bf16' : ''}`,
    stepSeconds,
    samplesPerSecond: batch / stepSeconds,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
}
