// How the dashboard copes with many runs: 200 run folders of 100 epochs each (history, summary,
// experiment; a fifth of them in one sweep), served by startDashboard and opened in headless
// Chromium (Debian's, through playwright-core). Measured: from navigation to the runs table and the
// first chart drawn, and from ticking one more run to the chart redrawn with it. Three rounds; the
// median. Usage: node tools/benchmarks/dashboard-runs.js [--runs 200] [--epochs 100]
// Not a test: never asserted in CI.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startDashboard } from '@rxvision/dashboard';
import { chromium } from 'playwright-core';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '200' }, epochs: { type: 'string', default: '100' } } });
const [runs, epochs] = [Number(values.runs), Number(values.epochs)];
const dir = await mkdtemp(join(tmpdir(), 'rxvision-dashboard-runs-'));
const json = (path, value) => writeFile(path, JSON.stringify(value));
try {
  const sweepTrials = Math.floor(runs / 5);
  await mkdir(join(dir, 'sweep'));
  await json(join(dir, 'sweep', 'sweep.json'), { source: 'sweep.json', trials: [], states: {} });
  for (let r = 0; r < runs; r++) {
    const folder =
      r < sweepTrials ? join(dir, 'sweep', `trial-${String(r).padStart(3, '0')}`) : join(dir, `run-${String(r).padStart(3, '0')}`);
    await mkdir(folder, { recursive: true });
    const history = Array.from({ length: epochs }, (_, e) => ({
      epoch: e + 1,
      phase: 0,
      learningRate: 0.1 / (1 + e),
      trainLoss: 2 / (1 + e * (1 + r / runs)),
      valLoss: 2.1 / (1 + e * (1 + r / runs)),
      valAccuracy: 0.5 + 0.4 * (1 - 1 / (1 + e)) - r / (10 * runs),
      metrics: { top2: 0.9 },
      seconds: 10,
    }));
    await json(join(folder, 'history.json'), history);
    await json(join(folder, 'experiment.json'), {
      seed: r,
      dataset: { type: 'cifar10' },
      model: { type: 'mlp', hidden: [64 + r] },
      optimizer: { type: 'sgd', momentum: (r % 10) / 10 },
      schedule: [{ epochs, learningRate: 0.1 }],
    });
    await json(join(folder, 'summary.json'), { architecture: 'mlp', seconds: 1000, test: { accuracy: 0.8, loss: 0.5 } });
  }
  const dashboard = await startDashboard({ runsDir: dir, port: 0 });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
  const firstPaint = [];
  const tick = [];
  try {
    for (let round = 0; round < 3; round++) {
      const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
      let started = performance.now();
      await page.goto(dashboard.url);
      await page.waitForFunction(
        (count) => document.querySelectorAll('#runs tbody tr').length >= count && document.querySelector('#chart svg') !== null,
        runs,
      );
      firstPaint.push(performance.now() - started);
      started = performance.now();
      await page.getByLabel('compare run-150').check();
      await page.waitForFunction(
        () => (document.getElementById('chart').dataset.runs ?? '').includes('run-150') && document.querySelector('#chart svg') !== null,
      );
      tick.push(performance.now() - started);
      await page.close();
    }
  } finally {
    await browser.close();
    await dashboard.close();
  }
  const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
  console.log(
    `${runs} runs of ${epochs} epochs: runs table and first chart ${median(firstPaint).toFixed(0)} ms, a tick redrawn ${median(tick).toFixed(0)} ms (median of ${firstPaint.length}; all: ${firstPaint.map((t) => t.toFixed(0)).join(', ')} / ${tick.map((t) => t.toFixed(0)).join(', ')} ms)`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
