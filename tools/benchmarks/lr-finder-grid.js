// Does the learning-rate finder's suggestion train as well as a grid search? (issue #38's second
// acceptance). A CNN on Fashion-MNIST (Debian's dataset-fashion-mnist), SGD with Nesterov momentum,
// one-cycle over 2 epochs at batch 128: `rxvision lr-find` suggests a peak rate (fastai's valley, and
// its minimum/10 and steep), and the same experiment is trained at each suggestion and at each rate
// of a 5-rate grid (1e-4 … 1); the test accuracies are printed side by side.
//
//   node tools/benchmarks/lr-finder-grid.js [out]   (default /tmp/rxvision-lr-grid; runs kept there)
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { trainedSummary } from './train-run.js';

const out = resolve(process.argv[2] ?? '/tmp/rxvision-lr-grid');
mkdirSync(out, { recursive: true });
const cli = resolve(import.meta.dirname, '../../packages/cli/bin/rxvision.js');
const GRID = [1e-4, 1e-3, 1e-2, 1e-1, 1];
const experiment = (peak) => ({
  seed: 43,
  dataset: { type: 'fashion-mnist', dataDir: join(out, 'fashion-mnist') },
  validation: 5000,
  batchSize: 128,
  model: { type: 'cnn', blocks: [16, 32], batchNorm: true },
  normalize: { mean: [0.286], std: [0.353] },
  optimizer: { type: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
  schedule: { type: 'oneCycle', epochs: 2, peak },
});

const base = join(out, 'base.json');
writeFileSync(base, `${JSON.stringify(experiment(0.01), null, 2)}\n`);
console.log(`rxvision lr-find --config ${base}`);
const found = execFileSync(process.execPath, [cli, 'lr-find', '--config', base, '--json', '--chart', join(out, 'lr-find.png')], {
  encoding: 'utf8',
});
const { suggestion, suggestions } = JSON.parse(found.trim().split('\n').at(-1));
writeFileSync(join(out, 'lr-find.json'), found);
console.log(
  `suggested ${suggestion.toExponential(2)} (valley); minimum/10 ${suggestions.minimum.toExponential(2)}, steep ${suggestions.steep.toExponential(2)}`,
);

const results = [];
const tried = [
  ['suggested', suggestion],
  ['minimum/10', suggestions.minimum],
  ['steep', suggestions.steep],
  ...GRID.map((rate) => [`grid ${rate}`, rate]),
];
for (const [name, peak] of tried) {
  const summary = trainedSummary(out, name.replace(/[ /]/g, '-'), experiment(peak));
  results.push({ name, peak, test: summary.test.accuracy, seconds: Math.round(summary.seconds) });
  console.log(
    `${name.padEnd(12)} peak ${peak.toExponential(2)}  test ${summary.test.accuracy.toFixed(4)}  ${Math.round(summary.seconds)} s`,
  );
}
const bestOfGrid = Math.max(...results.slice(3).map((r) => r.test));
for (const r of results.slice(0, 3)) console.log(`${r.name} − best of grid: ${((r.test - bestOfGrid) * 100).toFixed(2)} points`);
console.log(JSON.stringify({ suggestion, results }, null, 2));
