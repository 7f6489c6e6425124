// Training speed of rxvision against PyTorch on the same machine, in one run: the tutorial MLP and
// the small CNN (conv3x3 32 → pool → conv3x3 64 → pool → dense 10, 'same', ReLU), batch 128, SGD,
// step only (random data in memory); and `epoch`, a real epoch of experiments/cifar10-cnn.json (crop,
// flip, normalise, ResNet-8, Nesterov, batch 128: `rxvision train --config … --limit 8600 --schedule
// 1@0.05`, its training images over the epoch's seconds, validation included) against its twin
// ../shared/bench/torch_resnet8.py (60 steps, validation not included), and `vgg-epoch`, the same of
// experiments/cifar10-vgg.json against tools/benchmarks/torch_vgg.py; at 1 and at 2 threads, with their ratio.
// Usage: node tools/benchmarks/versus-pytorch.js [--threads 1,2] [--steps 30] [--models mlp,cnn,epoch] [--backend auto,wasm] [--repeat 1]
// --repeat N measures each pair N times, PyTorch and rxvision in turn, and reports each side's
// median: on a shared VM one epoch varies by ±7% from run to run, an outlier by 25%. --precision
// bfloat16 runs rxvision's convolutions and products in bf16 (a CPU with AVX512-BF16), and the VGG
// twin under PyTorch's own bf16 autocast (torch_vgg.py --bf16); the ResNet twin has no such option
// and stays float32, as the step anchors do.
// Every process starts as a plain `node` does, without GLIBC_TUNABLES: onednn allocates nothing per
// call, and selecting onnxruntime sets the malloc thresholds its fresh buffers need at run time.
// PyTorch: Debian's python3-torch with libopenblas0-pthread (../shared/bench), run with
// OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset. Never asserted in tests: timings are noisy.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '1,2' },
    steps: { type: 'string', default: '30' },
    models: { type: 'string', default: 'mlp,cnn,epoch' },
    backend: { type: 'string', default: 'auto' },
    repeat: { type: 'string', default: '1' },
    precision: { type: 'string', default: 'float32' },
    worker: { type: 'string' }, // internal: measure one model in this process
    'torch-bench': { type: 'string', default: join(here, '..', '..', '..', 'shared', 'bench') },
  },
});

/** The real epochs: each experiment and its PyTorch twin. */
const EPOCHS = {
  epoch: { config: 'cifar10-cnn.json', twin: join(values['torch-bench'], 'torch_resnet8.py'), bf16: [] },
  'vgg-epoch': { config: 'cifar10-vgg.json', twin: join(here, 'torch_vgg.py'), bf16: ['--bf16'] },
};

if (values.worker) {
  console.log(JSON.stringify(await measure(values.worker, Number(values.threads), Number(values.steps), values.backend, values.precision)));
} else {
  const env = { ...process.env };
  delete env.GLIBC_TUNABLES;
  const rows = [];
  for (const model of values.models.split(',')) {
    for (const threads of values.threads.split(',').map(Number)) {
      for (const backend of values.backend.split(',')) {
        // A process per measurement: the wasm thread pool is set up once per process.
        const worker = [
          fileURLToPath(import.meta.url),
          '--worker',
          model,
          '--threads',
          String(threads),
          '--steps',
          values.steps,
          '--backend',
          backend,
          '--precision',
          values.precision,
        ];
        const pairs = Array.from({ length: Number(values.repeat) }, () => {
          const torch = EPOCHS[model] ? pytorchEpoch(EPOCHS[model], threads) : pytorch(model, threads);
          const ours = EPOCHS[model]
            ? rxvisionEpoch(EPOCHS[model].config, threads, backend, env)
            : JSON.parse(execFileSync(process.execPath, worker, { encoding: 'utf8', env }).trim().split('\n').at(-1));
          if (Number(values.repeat) > 1)
            console.log(
              `  ${model} ${threads}: rxvision ${ours.samplesPerSecond.toFixed(0)}, PyTorch ${torch.samplesPerSecond?.toFixed(0) ?? '—'}`,
            );
          return { torch, ours };
        });
        const torch = median(pairs.map((pair) => pair.torch));
        const ours = median(pairs.map((pair) => pair.ours));
        rows.push({
          model,
          threads,
          backend: ours.backend,
          rxvision: ours.samplesPerSecond,
          pytorch: torch.samplesPerSecond,
          ratio: torch.samplesPerSecond ? ours.samplesPerSecond / torch.samplesPerSecond : undefined,
          note: torch.note,
        });
        const row = rows.at(-1);
        console.log(
          `${model.padEnd(9)} ${threads} thread${threads === 1 ? ' ' : 's'}  rxvision ${row.rxvision.toFixed(0).padStart(5)} samples/s (${row.backend})  PyTorch ${row.pytorch ? row.pytorch.toFixed(0).padStart(5) : '    —'} samples/s  ratio ${row.ratio ? row.ratio.toFixed(2) : '—'}${row.note ? `  (${row.note})` : ''}`,
        );
      }
    }
  }
  console.log(JSON.stringify(rows));
}

/** The measurement of median samples/s (the lower middle one of an even count). */
function median(measurements) {
  const sorted = [...measurements].sort((a, b) => (a.samplesPerSecond ?? 0) - (b.samplesPerSecond ?? 0));
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** The CIFAR-10 tarball both epochs read: RXVISION_CIFAR10_SOURCE, else the shared copy. */
function cifar10Source() {
  return process.env.RXVISION_CIFAR10_SOURCE ?? join(values['torch-bench'], '..', 'data', 'cifar-10-binary.tar.gz');
}

/** A real epoch of an experiment through the CLI: training images over the epoch's seconds. */
function rxvisionEpoch(config, threads, backend, env) {
  const out = mkdtempSync(join(tmpdir(), 'rxvision-epoch-'));
  try {
    const cli = join(here, '..', '..', 'packages', 'cli', 'bin', 'rxvision.js');
    const args = [
      cli,
      'train',
      '--config',
      join(here, '..', '..', 'experiments', config),
      '--limit',
      '8600',
      '--schedule',
      '1@0.05',
      '--threads',
      String(threads),
      '--backend',
      backend,
      '--precision',
      values.precision,
      '--out',
      join(out, 'run'),
    ];
    execFileSync(process.execPath, args, {
      encoding: 'utf8',
      env: { ...env, RXVISION_CIFAR10_SOURCE: cifar10Source() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const summary = JSON.parse(readFileSync(join(out, 'run', 'summary.json'), 'utf8'));
    const [epoch] = JSON.parse(readFileSync(join(out, 'run', 'history.json'), 'utf8'));
    return {
      backend: `${summary.backend?.name ?? backend}, ${threads} thread${threads === 1 ? '' : 's'}${values.precision === 'float32' ? '' : `, ${values.precision}`}`,
      samplesPerSecond: summary.split.train / epoch.seconds,
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** PyTorch's twin of that epoch (60 steps of 128), or why there is none. */
function pytorchEpoch({ twin: script, bf16 }, threads) {
  if (!existsSync(script)) return { note: `no PyTorch twin at ${script}` };
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  try {
    const out = execFileSync(
      '/usr/bin/python3',
      [
        script,
        cifar10Source(),
        '--epochs',
        '1',
        '--max-steps',
        '60',
        '--threads',
        String(threads),
        ...(values.precision === 'bfloat16' ? bf16 : []),
      ],
      { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const epoch = out
      .split('\n')
      .map((line) => (line.startsWith('{"epoch"') ? JSON.parse(line) : undefined))
      .find(Boolean);
    return {
      samplesPerSecond: epoch.samples_per_s,
      note: values.precision === 'bfloat16' ? (bf16.length ? 'PyTorch in bf16 autocast' : 'PyTorch in float32') : undefined,
    };
  } catch (error) {
    return {
      note: `PyTorch did not run: ${String(error.stderr ?? error.message)
        .trim()
        .split('\n')
        .at(-1)} (apt-get install python3-torch libopenblas0-pthread)`,
    };
  }
}

/** PyTorch's samples/s from the anchor scripts, or why there is none. */
function pytorch(model, threads) {
  const script = join(values['torch-bench'], model === 'mlp' ? 'torch_step_bench.py' : 'torch_cnn_bench.py');
  if (!existsSync(script)) return { note: `no PyTorch anchor at ${script}` };
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE; // OpenBLAS's older kernel is ~1.5x slower
  delete env.OPENBLAS_L2_SIZE;
  try {
    const out = execFileSync('/usr/bin/python3', [script, String(threads)], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
    return { samplesPerSecond: Number(/([\d.]+) samples\/s/.exec(out)[1]) };
  } catch (error) {
    return {
      note: `PyTorch did not run: ${String(error.stderr ?? error.message)
        .trim()
        .split('\n')
        .at(-1)} (apt-get install python3-torch libopenblas0-pthread)`,
    };
  }
}

async function measure(model, threads, steps, backendName, precision) {
  const { selectBackend } = await import('@rxvision/backend/node');
  const { BATCH, trainingStep } = await import('./training-step.js');
  const report = await selectBackend(backendName, { threads, precision });
  const step = trainingStep(model);
  for (let i = 0; i < 3; i++) await step();
  const started = performance.now();
  for (let i = 0; i < steps; i++) await step();
  const seconds = (performance.now() - started) / 1000;
  return {
    model,
    threads,
    backend: report.threads ? `${report.backend}, ${report.threads} thread${report.threads === 1 ? '' : 's'}` : report.backend,
    samplesPerSecond: (steps * BATCH) / seconds,
  };
}
