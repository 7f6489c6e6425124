// Training-step time of any experiment file on this machine, and what a whole run would take at
// that pace: compose the experiment as `rxvision train` would, train a few steps, time the rest.
// With --kernels, also where a step's time goes: milliseconds per kernel per step (synchronous backends only).
// Usage: node tools/benchmarks/experiment-step.js experiments/cifar10-fast.json [--steps 6] [--warmup 2] [--backend auto] [--threads N] [--data DIR] [--batch-size N] [--precision bfloat16] [--kernels]
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { selectBackend } from '@rxvision/backend/node';
import { composeExperiment, parseExperimentText } from '@rxvision/experiment';
import { fit, probeTraining, scheduleEpochs } from '@rxvision/train';
import { readFile } from 'node:fs/promises';
import { filter, lastValueFrom, take, tap } from 'rxjs';
import { timeKernels } from './kernel-times.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    steps: { type: 'string', default: '6' },
    warmup: { type: 'string', default: '2' },
    backend: { type: 'string', default: 'auto' },
    threads: { type: 'string' },
    data: { type: 'string' },
    'batch-size': { type: 'string' },
    precision: { type: 'string' }, // default: the experiment's
    kernels: { type: 'boolean', default: false },
  },
});
const file = resolve(positionals[0] ?? 'experiments/cifar10-fast.json');
const parsed = parseExperimentText(await readFile(file, 'utf8'), file);
const experiment = {
  ...parsed,
  ...(values.data && { dataset: { ...parsed.dataset, dataDir: resolve(values.data) } }),
  ...(values['batch-size'] && { batchSize: Number(values['batch-size']) }),
  ...(values.precision && { precision: values.precision }),
};
const composed = await composeExperiment(experiment, { source: file });
const report = await selectBackend(values.backend, {
  ...(values.threads && { threads: Number(values.threads) }),
  precision: experiment.precision ?? 'float32',
  probe: () => probeTraining(composed.createModel()),
});
console.log(report.summary);
const model = composed.createModel();
const [warmup, steps] = [Number(values.warmup), Number(values.steps)];
const times = [];
const kernels = values.kernels ? timeKernels() : undefined;
let last = performance.now();
await lastValueFrom(
  fit(model, { ...composed.fitOptions, validationBatches: undefined }).pipe(
    filter((event) => event.type === 'batch'),
    tap(() => {
      const now = performance.now();
      times.push(now - last);
      last = now;
      if (times.length === warmup) kernels?.reset(); // the timed steps' kernels only
    }),
    take(warmup + steps),
  ),
);
const timed = times.slice(warmup).sort((a, b) => a - b);
const median = timed[Math.floor(timed.length / 2)];
const stepsPerEpoch = composed.fitOptions.trainBatches.stepsPerEpoch;
const epochs = scheduleEpochs(composed.fitOptions.schedule);
console.log(
  JSON.stringify({
    experiment: file,
    batchSize: experiment.batchSize,
    parameters: composed.parameters,
    msPerStep: Math.round(median),
    samplesPerSecond: Math.round((experiment.batchSize * 1000) / median),
    stepsPerEpoch,
    epochs,
    trainingMinutes: +((median * stepsPerEpoch * epochs) / 60000).toFixed(1),
  }),
);
kernels?.print(times.length - warmup, 15);
model.dispose();
await composed.close();
