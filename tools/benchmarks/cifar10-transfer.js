// Transfer, measured on CIFAR-10 split in two (issue #36's third acceptance). A network is
// pretrained on the 25,000 training images of the first five classes (airplane to deer), by PyTorch
// (torch_pretrain_cifar5.py, exported with torch.onnx.export) or by rxvision (exported as every run
// is); it is then imported and fine-tuned on 2,500 training images of the other five (dog to
// truck), against the same network trained from scratch on those 2,500 with the same schedule and
// budget. Both are tested on the 5,000 test images of those five classes.
//
//   RXVISION_CIFAR10_SOURCE=../shared/data/cifar-10-binary.tar.gz \
//     node tools/benchmarks/cifar10-transfer.js [out] [--pretrained-by pytorch|rxvision] [--epochs 15]
//
// --epochs sets the budget of both the fine-tune and the scratch run (15 by default; other budgets
// are named finetune-BY-eN and scratch-eN). Pretraining is the same for every budget.
//
// Prints the test accuracies; the runs are in `out` (default /tmp/rxvision-transfer). PyTorch:
// Debian's python3-torch with libopenblas0-pthread, OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openImageDataset, prepareCifar10 } from '@rxvision/dataset/node';
import { writeSubset } from './cifar-subset.js';
import { trainedSummary } from './train-run.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'pretrained-by': { type: 'string', default: 'pytorch' }, epochs: { type: 'string', default: '15' } },
});
const epochs = Number(values.epochs);
if (!(Number.isInteger(epochs) && epochs >= 2)) throw new RangeError(`--epochs: a whole number ≥ 2, not ${values.epochs}`);
const budget = epochs === 15 ? '' : `-e${epochs}`;
const by = values['pretrained-by'];
if (by !== 'pytorch' && by !== 'rxvision') throw new RangeError(`--pretrained-by: pytorch or rxvision, not ${by}`);
const out = resolve(positionals[0] ?? '/tmp/rxvision-transfer');
mkdirSync(out, { recursive: true });
const data = join(out, 'cifar10');
await prepareCifar10({ dataDir: data });
const [train, test] = await Promise.all([openImageDataset(join(data, 'train.arrow')), openImageDataset(join(data, 'test.arrow'))]);

const five = (from, perClass) => ({ classes: [0, 1, 2, 3, 4].map((c) => c + from), perClass: new Array(5).fill(perClass) });
const first5 = await writeSubset(train, out, 'first5-train.arrow', five(0, 5000));
const last5 = await writeSubset(train, out, 'last5-train.arrow', five(5, 500));
const last5Test = await writeSubset(test, out, 'last5-test.arrow', five(5, 1000));

const common = {
  seed: 43,
  batchSize: 64,
  augment: [{ type: 'randomCrop', padding: 4 }, { type: 'horizontalFlip' }],
  normalize: { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] },
  optimizer: { type: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 0.0005 },
};
const network = { type: 'resnet', stages: [24, 48, 96], blocksPerStage: 1 };
const experiments = {
  pretrain: {
    ...common,
    dataset: { type: 'arrow', train: first5 },
    validation: 2500,
    batchSize: 128,
    model: network,
    schedule: { type: 'oneCycle', epochs: 10, peak: 0.1 },
  },
  // Same budget for both: `epochs` epochs of the 2,250 images left after 250 are held out.
  [`finetune-${by}${budget}`]: {
    ...common,
    dataset: { type: 'arrow', train: last5, test: last5Test },
    validation: 250,
    model: {
      type: 'onnx',
      file: by === 'pytorch' ? join(out, 'pretrain-pytorch.onnx') : join(out, 'pretrain', 'model.onnx'),
      replaceHead: true,
    },
    parameterGroups: [{ match: '^(?!head/)', learningRateScale: 0.1, frozenEpochs: 1 }],
    schedule: { type: 'oneCycle', epochs, peak: 0.05 },
  },
  [`scratch${budget}`]: {
    ...common,
    dataset: { type: 'arrow', train: last5, test: last5Test },
    validation: 250,
    model: network,
    schedule: { type: 'oneCycle', epochs, peak: 0.05 },
  },
};

const results = {};
if (by === 'pytorch') {
  delete experiments.pretrain;
  const onnx = join(out, 'pretrain-pytorch.onnx');
  if (!existsSync(onnx)) {
    const env = { ...process.env };
    delete env.OPENBLAS_CORETYPE; // OpenBLAS's older kernel is ~1.5x slower
    delete env.OPENBLAS_L2_SIZE;
    const script = join(import.meta.dirname, 'torch_pretrain_cifar5.py');
    const source = process.env.RXVISION_CIFAR10_SOURCE ?? resolve(import.meta.dirname, '../../../shared/data/cifar-10-binary.tar.gz');
    console.log(`python3 ${script} ${source} ${onnx}`);
    const log = execFileSync('/usr/bin/python3', [script, source, onnx], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    writeFileSync(join(out, 'pretrain-pytorch.log'), log);
  }
  const last = JSON.parse(readFileSync(join(out, 'pretrain-pytorch.log'), 'utf8').trim().split('\n').at(-1));
  results.pretrain = { validation: last.validation, seconds: last.seconds, backend: 'PyTorch' };
}
for (const [name, experiment] of Object.entries(experiments)) {
  const summary = trainedSummary(out, name, experiment, { stdout: 'inherit' });
  results[name] = { test: summary.test?.accuracy, seconds: Math.round(summary.seconds), backend: summary.backend?.name };
}
console.log(JSON.stringify(results, null, 2));
