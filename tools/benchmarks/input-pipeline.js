// The input pipeline's share of a real epoch of an experiment (default experiments/cifar10-cnn.json):
// one epoch's batches made without training (read, augment, normalise, make tensors: what `fit`
// waits for when no batch is ready), against the same epoch trained. Batches are made on the
// JavaScript thread as the step pulls them, so this time is not overlapped with the step.
// Usage: node tools/benchmarks/input-pipeline.js [--config experiments/cifar10-cnn.json] [--limit 8600] [--threads 2]
// Needs CIFAR-10 (RXVISION_CIFAR10_SOURCE, as the CLI). Never asserted in tests.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { selectBackend } from '@rxvision/backend/node';
import { composeExperiment, parseExperimentText } from '@rxvision/experiment';
import { fit } from '@rxvision/train';
import { concatMap, lastValueFrom, tap } from 'rxjs';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'experiments/cifar10-cnn.json' },
    limit: { type: 'string', default: '8600' },
    threads: { type: 'string', default: '2' },
  },
});
const path = resolve(values.config);
// As `train --limit`: the first n images, a tenth of them held out.
const experiment = {
  ...parseExperimentText(await readFile(path, 'utf8'), path),
  limit: Number(values.limit),
  validation: 0.1,
  schedule: [{ epochs: 1, learningRate: 0.05 }],
};
const report = await selectBackend('auto', { threads: Number(values.threads) });
console.log(report.summary);
const composed = await composeExperiment(experiment, { baseDir: dirname(path), source: path });

// The batches alone: each pulled and disposed, one after another, as fit pulls them.
let batches = 0;
let started = performance.now();
await lastValueFrom(
  composed.fitOptions.trainBatches(0).pipe(
    concatMap((pending) => pending),
    tap((batch) => (batches++, batch.dispose())),
  ),
  { defaultValue: undefined },
);
const inputSeconds = (performance.now() - started) / 1000;

// The same epoch trained (validation excluded: it runs after the epoch's last step).
let trainSeconds = 0;
started = performance.now();
await lastValueFrom(
  fit(composed.createModel(), { ...composed.fitOptions, validationBatches: undefined }).pipe(
    tap((event) => event.type === 'epoch' && (trainSeconds = (performance.now() - started) / 1000)),
  ),
  { defaultValue: undefined },
);
console.log(
  `${batches} batches of ${experiment.batchSize}: input pipeline ${inputSeconds.toFixed(2)} s, training epoch ${trainSeconds.toFixed(2)} s: the pipeline is ${((100 * inputSeconds) / trainSeconds).toFixed(1)}% of the epoch`,
);
