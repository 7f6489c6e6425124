// Class imbalance (issue #38's second acceptance, third part): CIFAR-10's training images with one
// class, cat, cut to 5% of the others' (1,000 of every class, 50 cats), the ResNet of
// experiments/cifar10-cnn.json trained three ways: as it is, with balanced class weights in the loss,
// and with class-balanced sampling. Each is tested on CIFAR-10's 10,000 test images (1,000 cats);
// printed: cat's recall and precision, the macro F1 and the accuracy.
//
//   RXVISION_CIFAR10_SOURCE=../shared/data/cifar-10-binary.tar.gz node tools/benchmarks/imbalance.js [out]
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openImageDataset, prepareCifar10 } from '@rxvision/dataset/node';
import { writeSubset } from './cifar-subset.js';
import { trainedSummary } from './train-run.js';

const out = resolve(process.argv[2] ?? '/tmp/rxvision-imbalance');
mkdirSync(out, { recursive: true });
const data = join(out, 'cifar10');
await prepareCifar10({ dataDir: data });
const train = await openImageDataset(join(data, 'train.arrow'));
const CAT = 3;
const imbalanced = await writeSubset(train, out, 'cat-at-5-percent.arrow', {
  classes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  perClass: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((c) => (c === CAT ? 50 : 1000)),
});

const common = {
  seed: 43,
  dataset: { type: 'arrow', train: imbalanced, test: join(data, 'test.arrow') },
  validation: 500,
  batchSize: 128,
  model: { type: 'resnet', stages: [24, 48, 96], blocksPerStage: 1 },
  augment: [{ type: 'randomCrop', padding: 4 }, { type: 'horizontalFlip' }],
  normalize: { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] },
  optimizer: { type: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
  schedule: { type: 'oneCycle', epochs: 10, peak: 0.1 },
};
const experiments = {
  plain: common,
  'balanced-weights': { ...common, classWeights: 'balanced' },
  'balanced-sampler': { ...common, sampler: 'balanced' },
};

const rows = [];
for (const [name, experiment] of Object.entries(experiments)) {
  const { test, seconds } = trainedSummary(out, name, experiment);
  const cat = test.perClass.cat;
  rows.push({
    name,
    catRecall: cat.recall,
    catPrecision: cat.precision,
    macroF1: test.macroF1,
    accuracy: test.accuracy,
    seconds: Math.round(seconds),
  });
  const r = rows.at(-1);
  console.log(
    `${name.padEnd(17)} cat recall ${r.catRecall.toFixed(3)}  precision ${r.catPrecision.toFixed(3)}  macro F1 ${r.macroF1.toFixed(4)}  accuracy ${r.accuracy.toFixed(4)}  ${r.seconds} s`,
  );
}
console.log(JSON.stringify(rows, null, 2));
