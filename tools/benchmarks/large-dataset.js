// A dataset larger than the memory budget: prepares a synthetic one of GB gigabytes (64×64×3 images
// of ten classes, written as 2 GB shards by ImageDatasetWriter), reads it once in shuffled order
// (read throughput), then trains an epoch over it with `rxvision train --config`. Each phase runs in
// its own process, and reports its peak RSS (target for training: under 1.5 GB). Usage:
//   npx nx run benchmarks:large-dataset          (8 GB)
//   node tools/benchmarks/large-dataset.js [--gb 8] [--dir DIR] [--keep] [--cold]
// --cold empties the kernel's page cache before reading and before training (root only), so that
// the images come from the disk rather than from memory the kernel kept after writing them.
// Needs about GB of free disk. Not a test: never asserted in CI.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createRandom } from '@rxvision/dataset';
import { ImageDatasetWriter, openImages } from '@rxvision/dataset/node';
import { batch, readImages, rowIndices, shuffle } from '@rxvision/stream';
import { concatMap, lastValueFrom, tap } from 'rxjs';

const SHAPE = [64, 64, 3];
const PIXELS = SHAPE[0] * SHAPE[1] * SHAPE[2];
const CLASSES = Array.from({ length: 10 }, (_, i) => `pattern ${i}`);
const SHARD_BYTES = 2e9;
const here = dirname(fileURLToPath(import.meta.url));
const cli = resolve(here, '../../packages/cli/bin/rxvision.js');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    gb: { type: 'string', default: '8' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    cold: { type: 'boolean', default: false },
  },
});
const [phase, phaseDir] = positionals;
if (phase === 'prepare') await prepare(phaseDir, Number(values.gb));
else if (phase === 'read') await read(phaseDir);
else await main();

async function main() {
  const dir = values.dir ? resolve(values.dir) : await mkdtemp(join(tmpdir(), 'rxvision-large-'));
  await mkdir(dir, { recursive: true });
  const results = {};
  try {
    results.prepare = run('prepare', [process.execPath, fileURLToPath(import.meta.url), 'prepare', dir, '--gb', values.gb]);
    results.read = run('read', [process.execPath, fileURLToPath(import.meta.url), 'read', dir]);
    const shards = JSON.parse(await readFile(join(dir, 'shards.json'), 'utf8'));
    const experiment = {
      description: 'One epoch of a small MLP over a synthetic dataset larger than the memory budget (benchmark).',
      seed: 1,
      dataset: { type: 'arrow', train: shards },
      validation: 0.01,
      batchSize: 256,
      model: { type: 'mlp', hidden: [64] },
      optimizer: { type: 'sgd', momentum: 0.9 },
      schedule: [{ epochs: 1, learningRate: 0.01 }],
    };
    await writeFile(join(dir, 'experiment.json'), JSON.stringify(experiment, null, 2));
    const started = performance.now();
    results.train = run('train', [
      process.execPath,
      cli,
      'train',
      '--config',
      join(dir, 'experiment.json'),
      '--out',
      join(dir, 'run'),
      '--json',
    ]);
    results.train.seconds = (performance.now() - started) / 1000;
    const history = JSON.parse(await readFile(join(dir, 'run', 'history.json'), 'utf8'));
    results.train.epoch = history.at(-1);
    console.log(
      `prepare: ${results.prepare.gigabytes.toFixed(2)} GB (${results.prepare.rows} images in ${results.prepare.shards} files) in ${results.prepare.seconds.toFixed(0)} s, ${(results.prepare.gigabytes / results.prepare.seconds).toFixed(2)} GB/s, peak RSS ${results.prepare.peakRssMb.toFixed(0)} MB`,
    );
    console.log(`page cache emptied before reading and training: ${results.read.cold && results.train.cold ? 'yes' : 'no'}`);
    console.log(
      `read from disk, shuffled: ${results.read.rawGbPerSecond.toFixed(2)} GB/s as images (${results.read.rawSeconds.toFixed(1)} s), ${results.read.floatGbPerSecond.toFixed(2)} GB/s of pixels into float batches of 256 (${results.read.floatSeconds.toFixed(1)} s); peak RSS ${results.read.peakRssMb.toFixed(0)} MB`,
    );
    console.log(
      `train one epoch (rxvision train --config): ${results.train.seconds.toFixed(0)} s, peak RSS ${results.train.peakRssMb.toFixed(0)} MB (target < 1536 MB)`,
    );
    console.log(JSON.stringify(results));
  } finally {
    if (!values.keep) await rm(dir, { recursive: true, force: true });
  }

  /** Runs a phase in its own process (children included), tagging the peak RSS lines it leaves. */
  function run(name, argv) {
    const cold = name !== 'prepare' && values.cold && dropPageCache();
    const child = spawnSync(argv[0], argv.slice(1), {
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
      maxBuffer: 2 ** 28,
      env: {
        ...process.env,
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${join(here, 'report-peak-rss.js')}`,
        RXVISION_PEAK_RSS_FILE: join(dir, `${name}.rss.jsonl`),
      },
    });
    if (child.status !== 0) throw new Error(`${name} failed (exit ${child.status}):\n${child.stdout}`);
    const lines = child.stdout.trim().split('\n');
    const peaks = readFileSync(join(dir, `${name}.rss.jsonl`), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    // The largest of the phase's processes (the CLI relaunches itself in a child).
    const peakRssMb = Math.max(...peaks.map((peak) => peak.peakRssMb));
    return { ...(name === 'train' ? { output: lines.at(-1) } : JSON.parse(lines.at(-1))), peakRssMb, cold, processes: peaks };
  }
}

function dropPageCache() {
  try {
    spawnSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '1');
    return true;
  } catch (error) {
    console.error(`--cold: cannot empty the page cache (${error.message}); reading from cache`);
    return false;
  }
}

/** Writes GB gigabytes of learnable images: each class a fixed random pattern, half-blended with noise. */
async function prepare(dir, gigabytes) {
  const started = performance.now();
  const rows = Math.ceil((gigabytes * 1e9) / PIXELS);
  const random = createRandom(7);
  const patterns = CLASSES.map(() => Uint8Array.from({ length: PIXELS }, () => random.nextUint32() >>> 25));
  const noise = Uint8Array.from({ length: 2 ** 20 + PIXELS }, () => random.nextUint32() >>> 25);
  const perShard = Math.floor(SHARD_BYTES / PIXELS);
  const shards = [];
  const image = new Uint8Array(PIXELS);
  for (let first = 0; first < rows; first += perShard) {
    const path = join(dir, `train-${String(shards.length).padStart(3, '0')}.arrow`);
    const count = Math.min(perShard, rows - first);
    const writer = await ImageDatasetWriter.create(path, { classes: CLASSES, shape: SHAPE, rows: count });
    for (let row = 0; row < count; row++) {
      const label = random.nextInt(CLASSES.length);
      const pattern = patterns[label];
      const offset = random.nextInt(2 ** 20);
      for (let p = 0; p < PIXELS; p++) image[p] = pattern[p] + noise[offset + p];
      await writer.append(image, label);
      if ((first + row) % 20000 === 0) process.stderr.write(`\rprepare: ${(((first + row) * PIXELS) / 1e9).toFixed(1)} of ${gigabytes} GB`);
    }
    await writer.commit();
    shards.push(path);
  }
  process.stderr.write('\n');
  await writeFile(join(dir, 'shards.json'), JSON.stringify(shards));
  const seconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify({ phase: 'prepare', rows, shards: shards.length, gigabytes: (rows * PIXELS) / 1e9, seconds }));
}

/**
 * Two shuffled passes from disk (forced, whatever the size): the raw images as `image()` returns
 * them, then through `readImages` into float batches of 256 as training gets them.
 */
async function read(dir) {
  const shards = JSON.parse(await readFile(join(dir, 'shards.json'), 'utf8'));
  const dataset = await openImages(shards, { maxInMemoryBytes: 0 });
  const order = () => rowIndices(dataset.length).pipe(shuffle({ seed: 1, epoch: 0 }), batch(256));
  let started = performance.now();
  let checksum = 0;
  await lastValueFrom(
    order().pipe(
      tap((rows) => {
        for (const row of rows) checksum = (checksum + dataset.image(row)[PIXELS >> 1]) | 0;
      }),
    ),
  );
  const rawSeconds = (performance.now() - started) / 1000;
  started = performance.now();
  await lastValueFrom(
    order().pipe(
      readImages(dataset),
      concatMap((pending) => pending),
    ),
  );
  const floatSeconds = (performance.now() - started) / 1000;
  await dataset.close();
  const bytes = dataset.length * PIXELS;
  console.log(
    JSON.stringify({
      phase: 'read',
      storage: dataset.storage,
      bytes,
      rawSeconds,
      rawGbPerSecond: bytes / rawSeconds / 1e9,
      floatSeconds,
      floatGbPerSecond: bytes / floatSeconds / 1e9,
      checksum,
    }),
  );
}
