// What ASHA saves on a real search: the same 16 trials of a Fashion-MNIST MLP (Debian's
// dataset-fashion-mnist), run to the end of their schedules (a full random search) and with
// `scheduler: asha`. Trials are seeded draws of the learning rate, weight decay and width; the
// same seed gives the same trials, so the ASHA sweep's trials are the full sweep's, stopped early.
// Usage: node tools/benchmarks/asha-sweep.js [--trials 16] [--epochs 9] [--out docs/results/asha-sweep]
// Not a test: never asserted in CI.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { prepareFashionMnist } from '@rxvision/dataset/node';

const { values } = parseArgs({
  options: { trials: { type: 'string', default: '16' }, epochs: { type: 'string', default: '9' }, out: { type: 'string' } },
});
const trials = Number(values.trials);
const epochs = Number(values.epochs);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const cli = join(root, 'packages/cli/bin/rxvision.js');

const dir = await mkdtemp(join(tmpdir(), 'rxvision-asha-'));
try {
  const data = join(dir, 'fashion-mnist');
  await prepareFashionMnist({ dataDir: data });
  const base = {
    seed: 43,
    dataset: { type: 'fashion-mnist', dataDir: data },
    validation: 5000,
    batchSize: 128,
    model: { type: 'mlp', hidden: [128] },
    normalize: { mean: [0.286], std: [0.353] },
    optimizer: { type: 'adamw', weightDecay: 1e-4 },
    schedule: { type: 'cosine', epochs, peak: 0.002, warmupEpochs: 1 },
  };
  const search = {
    base,
    random: {
      'schedule.peak': { logUniform: [1e-5, 0.3] },
      'optimizer.weightDecay': { logUniform: [1e-6, 1e-1] },
      'model.hidden': { choice: [[32], [128], [256, 128]] },
    },
    samples: trials,
    seed: 7,
    concurrency: 2,
  };
  const scheduler = { type: 'asha', metric: 'valAccuracy', gracePeriod: 1, reductionFactor: 3 };
  await writeFile(join(dir, 'full.json'), JSON.stringify(search));
  await writeFile(join(dir, 'asha.json'), JSON.stringify({ ...search, scheduler }));

  const full = await sweep('full');
  const asha = await sweep('asha');
  const best = (runs) => runs.reduce((a, b) => (b.valAccuracy > a.valAccuracy ? b : a));
  const [bestFull, bestAsha] = [best(full.trials), best(asha.trials.filter((t) => t.epochs === epochs))];
  const epochsFull = full.trials.reduce((sum, t) => sum + t.epochs, 0);
  const epochsAsha = asha.trials.reduce((sum, t) => sum + t.epochs, 0);
  // The ASHA sweep's trials are the full sweep's: the same figures, epoch for epoch, up to where ASHA stopped them.
  const same = asha.trials.every(
    (t, i) => JSON.stringify(t.valAccuracies) === JSON.stringify(full.trials[i].valAccuracies.slice(0, t.epochs)),
  );
  const result = {
    trials,
    epochs,
    scheduler,
    full: { seconds: full.seconds, epochs: epochsFull, best: bestFull },
    asha: {
      seconds: asha.seconds,
      epochs: epochsAsha,
      best: bestAsha,
      stopped: asha.trials.filter((t) => t.epochs < epochs).map((t) => `${t.name} at ${t.epochs}`),
    },
    epochShare: epochsAsha / epochsFull,
    pointsBehind: 100 * (bestFull.valAccuracy - bestAsha.valAccuracy),
    sameFigures: same,
    perTrial: full.trials.map((t, i) => ({
      name: t.name,
      settings: t.settings,
      fullValAccuracy: t.valAccuracy,
      ashaEpochs: asha.trials[i].epochs,
    })),
  };
  console.log(
    `full: ${trials} trials, ${epochsFull} epochs, ${full.seconds.toFixed(0)} s; best ${bestFull.name} val_acc ${bestFull.valAccuracy.toFixed(4)} (test ${bestFull.testAccuracy.toFixed(4)})`,
  );
  console.log(
    `asha: ${epochsAsha} epochs (${(100 * result.epochShare).toFixed(0)}% of the full sweep's), ${asha.seconds.toFixed(0)} s; best ${bestAsha.name} val_acc ${bestAsha.valAccuracy.toFixed(4)} (test ${bestAsha.testAccuracy.toFixed(4)}), ${result.pointsBehind.toFixed(2)} points behind; same figures as the full sweep: ${same}`,
  );
  console.log(JSON.stringify(result));
  if (values.out) {
    await mkdir(values.out, { recursive: true });
    await writeFile(join(values.out, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

/** Runs one sweep file of the temporary folder; its trials' epochs and figures, and its wall time. */
async function sweep(name) {
  const out = join(dir, `${name}-out`);
  const started = performance.now();
  await new Promise((done, fail) => {
    const child = spawn(process.execPath, [cli, 'sweep', join(dir, `${name}.json`), '--out', out, '--backend', 'auto', '--threads', '1'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`sweep ${name} exited with ${code}`))));
  });
  const seconds = (performance.now() - started) / 1000;
  const record = JSON.parse(await readFile(join(out, 'sweep.json'), 'utf8'));
  const runs = await Promise.all(
    record.trials.map(async ({ name: trial, settings }) => {
      const history = JSON.parse(await readFile(join(out, trial, 'history.json'), 'utf8'));
      const summary = JSON.parse(await readFile(join(out, trial, 'summary.json'), 'utf8'));
      return {
        name: trial,
        settings,
        epochs: history.length,
        valAccuracies: history.map((r) => r.valAccuracy),
        valAccuracy: history.at(-1).valAccuracy,
        testAccuracy: summary.test.accuracy,
      };
    }),
  );
  return { seconds, trials: runs };
}
