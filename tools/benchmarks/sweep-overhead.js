// What a queued trial costs over a local one: the same sweep of small trials run by `rxvision sweep`
// on this machine (one at a time) and through a Redis queue (`sweep --queue`) by one `rxvision worker`
// (one at a time), on a redis-server started here. Each way twice, alternating; the best of each.
// Usage: node tools/benchmarks/sweep-overhead.js [--trials 4] [--epochs 3]
// Needs redis-server (apt-get install redis-server). Not a test: never asserted in CI.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ImageDatasetWriter } from '@rxvision/dataset/node';
import { startRedisServer } from '@rxvision/redis-test-server';

const { values } = parseArgs({ options: { trials: { type: 'string', default: '4' }, epochs: { type: 'string', default: '3' } } });
const trials = Number(values.trials);
const cli = resolve(dirname(fileURLToPath(import.meta.url)), '../../packages/cli/bin/rxvision.js');
const common = ['--backend', 'wasm', '--threads', '1'];

const dir = await mkdtemp(join(tmpdir(), 'rxvision-sweep-overhead-'));
const redis = await startRedisServer();
try {
  // 3,000 grey 16×16 images in three classes: epochs of under a second, so that fixed costs show.
  const writer = await ImageDatasetWriter.create(join(dir, 'bands.arrow'), {
    classes: ['top', 'middle', 'bottom'],
    shape: [16, 16, 1],
    rows: 3000,
  });
  for (let row = 0; row < 3000; row++) {
    const label = row % 3;
    await writer.append(
      Uint8Array.from({ length: 256 }, (_, i) => (Math.min(2, Math.floor(i / 86)) === label ? 140 : 40) + ((row * 17 + i * 5) % 90)),
      label,
    );
  }
  await writer.commit();
  const base = {
    dataset: { type: 'arrow', train: 'bands.arrow', test: 'bands.arrow' },
    validation: 300,
    batchSize: 10,
    model: { type: 'mlp', hidden: [64] },
    optimizer: { type: 'sgd' },
    schedule: [{ epochs: Number(values.epochs), learningRate: 0.01 }],
  };
  await writeFile(join(dir, 'sweep.json'), JSON.stringify({ base, grid: { seed: Array.from({ length: trials }, (_, i) => i + 1) } }));

  const local = [];
  const queued = [];
  for (let round = 0; round < 2; round++) {
    local.push(await timed(['sweep', join(dir, 'sweep.json'), '--out', join(dir, `local-${round}`), '--concurrency', '1', ...common]));
    const worker = spawn(process.execPath, [cli, 'worker', '--queue', redis.url, ...common], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((ready) => worker.stdout.on('data', (chunk) => String(chunk).includes('running trials from') && ready()));
    queued.push(await timed(['sweep', join(dir, 'sweep.json'), '--out', join(dir, `queued-${round}`), '--queue', redis.url]));
    worker.kill('SIGTERM');
    await new Promise((exited) => worker.on('exit', exited));
  }
  const [bestLocal, bestQueued] = [Math.min(...local), Math.min(...queued)];
  console.log(
    `${trials} trials of ${values.epochs} epochs, one at a time: local ${bestLocal.toFixed(1)} s (${(bestLocal / trials).toFixed(2)} s a trial), queued with one worker ${bestQueued.toFixed(1)} s (${(bestQueued / trials).toFixed(2)} s a trial)`,
  );
  console.log(
    `overhead of a queued trial: ${((bestQueued - bestLocal) / trials).toFixed(2)} s (${(((bestQueued - bestLocal) / bestLocal) * 100).toFixed(1)}% of a trial here)`,
  );
  console.log(JSON.stringify({ trials, epochs: Number(values.epochs), localSeconds: local, queuedSeconds: queued }));
} finally {
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
}

/** Seconds the CLI takes for `args`; throws when it fails. */
function timed(args) {
  const started = performance.now();
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('exit', (code) =>
      code === 0 ? done((performance.now() - started) / 1000) : fail(new Error(`rxvision ${args.join(' ')} exited with ${code}`)),
    );
  });
}
