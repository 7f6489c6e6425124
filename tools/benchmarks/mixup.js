// Mixup and cutmix on CIFAR-10 (issue #38's second acceptance, second part): the ResNet of
// experiments/cifar10-cnn.json trained as it is and with mixup (or cutmix) last in its augmentations,
// the same seed, schedule and budget; each tested on CIFAR-10's 10,000 test images. Printed: test
// accuracy and loss, and the last epoch's training loss (mixed targets raise it).
//
//   node tools/benchmarks/mixup.js [--epochs 6] [--variants mixup,cutmix] [--out DIR]
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { trainedSummary } from './train-run.js';

const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '6' },
    variants: { type: 'string', default: 'mixup' },
    out: { type: 'string', default: '/tmp/rxvision-mixup' },
  },
});
const out = resolve(values.out);
mkdirSync(out, { recursive: true });
const base = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../experiments/cifar10-cnn.json'), 'utf8'));
const { $schema: _schema, description: _description, ...recipe } = base;
const common = {
  ...recipe,
  dataset: { type: 'cifar10', dataDir: resolve(import.meta.dirname, '../../data/cifar10') },
  schedule: { ...recipe.schedule, epochs: Number(values.epochs) },
};
// timm's batch-level α: 0.8 for mixup, 1 for cutmix (the experiment file's defaults).
const variants = { plain: [], ...Object.fromEntries(values.variants.split(',').map((type) => [type, [{ type }]])) };

const rows = [];
for (const [name, extra] of Object.entries(variants)) {
  const experiment = { ...common, augment: [...common.augment, ...extra] };
  const summary = trainedSummary(out, `${name}-${values.epochs}`, experiment);
  const history = JSON.parse(readFileSync(join(out, `${name}-${values.epochs}`, 'history.json'), 'utf8'));
  rows.push({
    name,
    testAccuracy: summary.test.accuracy,
    testLoss: summary.test.loss,
    lastTrainLoss: history.at(-1).trainLoss,
    lastValAccuracy: history.at(-1).valAccuracy,
    seconds: Math.round(summary.seconds),
  });
  const r = rows.at(-1);
  console.log(
    `${name.padEnd(7)} test accuracy ${r.testAccuracy.toFixed(4)}  loss ${r.testLoss.toFixed(4)}  last train loss ${r.lastTrainLoss.toFixed(4)}  ${r.seconds} s`,
  );
}
console.log(JSON.stringify(rows, null, 2));
