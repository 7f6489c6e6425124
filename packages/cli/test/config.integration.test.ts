import { access, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareIdx } from '@rxvision/dataset/node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeIdx } from './idx-fixture.js';
import { runCli } from './run-cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-config-'));
  // 300 grey 8×8 images in three classes, class c brighter in band c: learnable in an epoch.
  const rows = 300;
  const labels = Uint8Array.from({ length: rows }, (_, r) => r % 3);
  const pixels = Uint8Array.from({ length: rows * 64 }, (_, i) => {
    const r = Math.floor(i / 64);
    const band = Math.min(2, Math.floor((i % 64) / 22));
    return (band === labels[r] ? 160 : 30) + ((r * 17 + i * 5) % 50);
  });
  await writeIdx(join(dir, 'images'), [rows, 8, 8], pixels);
  await writeIdx(join(dir, 'labels'), [rows], labels);
  await prepareIdx({
    images: join(dir, 'images'),
    labels: join(dir, 'labels'),
    classes: ['top', 'middle', 'bottom'],
    out: join(dir, 'bands.arrow'),
  });
  const experiment = {
    description: 'a small CNN on bands',
    seed: 1,
    dataset: { type: 'arrow', train: 'bands.arrow', test: 'bands.arrow' },
    validation: 60,
    batchSize: 30,
    model: { type: 'cnn', blocks: [4] },
    augment: [{ type: 'horizontalFlip' }],
    normalize: { mean: [0.4], std: [0.25] },
    optimizer: { type: 'adam' },
    schedule: { type: 'cosine', epochs: 3, peak: 0.01 },
    topK: [2],
  };
  await writeFile(join(dir, 'bands.json'), JSON.stringify(experiment));
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

/** `rxvision evaluate` of run `out` gives its summary's test figures, on the 300 images of bands.arrow. */
async function expectEvaluationOfSummary(out: string, summary: { test: { accuracy: number; loss: number } }): Promise<void> {
  const evaluation = await runCli(['evaluate', '--model', out, '--backend', 'wasm', '--json']);
  expect(evaluation.code, evaluation.stderr).toBe(0);
  const evaluated = JSON.parse(evaluation.stdout);
  expect(evaluated.images).toBe(300);
  expect(evaluated.accuracy).toBeCloseTo(summary.test.accuracy, 10);
  expect(evaluated.loss).toBeCloseTo(summary.test.loss, 5);
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

describe('train --config', () => {
  test('--precision bfloat16: mixed precision on onednn where the CPU has AVX512-BF16 (recorded; unlike float32); one line elsewhere, with wasm, or for another precision', async () => {
    const train = (out: string, ...flags: string[]) =>
      runCli(['train', '--config', join(dir, 'bands.json'), '--schedule', '2@0.01', '--threads', '2', '--out', out, '--json', ...flags]);
    const history = async (out: string) =>
      JSON.parse(await readFile(join(out, 'history.json'), 'utf8')) as { trainLoss: number; valAccuracy: number }[];
    const avx512bf16 = / avx512_bf16( |$)/m.test(await readFile('/proc/cpuinfo', 'utf8'));
    const mixed = await train(join(dir, 'bf16'), '--backend', 'onednn', '--precision', 'bfloat16');
    if (avx512bf16) {
      expect(mixed.code, mixed.stderr).toBe(0);
      const summary = JSON.parse(await readFile(join(dir, 'bf16', 'summary.json'), 'utf8'));
      expect(summary.backend).toMatchObject({ name: 'onednn', precision: 'bfloat16' });
      expect(JSON.parse(await readFile(join(dir, 'bf16', 'experiment.json'), 'utf8')).precision).toBe('bfloat16');
      const plain = await train(join(dir, 'f32'), '--backend', 'onednn');
      expect(plain.code, plain.stderr).toBe(0);
      expect(JSON.parse(await readFile(join(dir, 'f32', 'summary.json'), 'utf8')).backend.precision).toBeUndefined();
      const [bf16, f32] = [await history(join(dir, 'bf16')), await history(join(dir, 'f32'))];
      expect(bf16[0]!.trainLoss).not.toBe(f32[0]!.trainLoss); // the convolutions read bfloat16
      expect(Math.abs(bf16[1]!.valAccuracy - f32[1]!.valAccuracy)).toBeLessThan(0.1); // and learn alike
    } else {
      expect([mixed.code, mixed.stderr.trim()]).toEqual([
        1,
        'rxvision: onednn cannot compute in bfloat16: this CPU lacks AVX512-BF16; bfloat16 needs onednn or onednn-cpu on a CPU with AVX512-BF16',
      ]);
      expect(await exists(join(dir, 'bf16'))).toBe(false);
    }
    const wasm = await train(join(dir, 'bf16-wasm'), '--backend', 'wasm', '--precision', 'bfloat16');
    expect([wasm.code, wasm.stderr.trim()]).toEqual([
      1,
      'rxvision: wasm cannot compute in bfloat16: it computes in float32 only; bfloat16 needs onednn or onednn-cpu on a CPU with AVX512-BF16',
    ]);
    expect(await exists(join(dir, 'bf16-wasm'))).toBe(false);
    const half = await train(join(dir, 'half'), '--precision', 'half');
    expect([half.code, half.stderr.trim()]).toEqual([1, 'rxvision: --precision must be float32 or bfloat16, got "half"']);
  }, 120_000);

  test("runs the file's experiment with the flags given laid over it, and records both", async () => {
    const out = join(dir, 'run');
    // From another folder: the file's relative paths are the file's, not the working folder's.
    const tensorboard = join(dir, 'tensorboard');
    const result = await runCli(
      [
        'train',
        '--config',
        join(dir, 'bands.json'),
        '--seed',
        '5',
        '--schedule',
        '2@0.01',
        '--backend',
        'wasm',
        '--out',
        out,
        '--tensorboard',
        tensorboard,
        '--json',
      ],
      {},
      { cwd: tmpdir() },
    );
    expect(result.code, result.stderr).toBe(0);
    // One event file: the header, the settings, 8 steps in each of 2 epochs, 2 epoch summaries.
    const [eventFile, ...others] = await readdir(tensorboard);
    expect(others).toEqual([]);
    const events = await readFile(join(tensorboard, eventFile!));
    let records = 0;
    for (let at = 0; at < events.length; at += 16 + Number(events.readBigUInt64LE(at))) records++;
    expect(records).toBe(20);
    expect(events.includes('brain.Event:2') && events.includes('"seed": 5') && events.includes('epoch/val_top2')).toBe(true);
    const experiment = JSON.parse(await readFile(join(out, 'experiment.json'), 'utf8'));
    expect(experiment).toMatchObject({
      source: join(dir, 'bands.json'),
      seed: 5,
      batchSize: 30,
      schedule: [{ epochs: 2, learningRate: 0.01 }],
      optimizer: { type: 'adam' },
      model: { type: 'cnn', blocks: [4] },
    });
    expect(experiment.dataset).toEqual({ type: 'arrow', train: join(dir, 'bands.arrow'), test: join(dir, 'bands.arrow') });
    const history = JSON.parse(await readFile(join(out, 'history.json'), 'utf8'));
    expect(history).toHaveLength(2);
    expect(history[1].metrics.top2).toBeGreaterThanOrEqual(history[1].valAccuracy);
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({
      experiment: join(dir, 'bands.json'),
      epochs: 2,
      seed: 5,
      split: { train: 240, validation: 60, test: 300 },
    });
    expect(summary.architecture).toBe('cnn {"blocks":[4]} on 8×8×1 → 3 classes');
    expect(summary.test.top2).toBeGreaterThanOrEqual(summary.test.accuracy);
    expect(Object.keys(summary.test.perClassAccuracy)).toEqual(['top', 'middle', 'bottom']);
    expect(await exists(join(out, 'confusion-matrix.png'))).toBe(true);

    // evaluate finds the run's own test file and normalises as training did: the summary's figures.
    await expectEvaluationOfSummary(out, summary);
  }, 300_000);

  test("evaluate of a run trained on random-resized crops crops the centre, as the run's own test figures did", async () => {
    const config = join(dir, 'cropped.json');
    const experiment = {
      seed: 2,
      dataset: { type: 'arrow', train: 'bands.arrow', test: 'bands.arrow' },
      validation: 60,
      batchSize: 30,
      model: { type: 'cnn', blocks: [4] },
      augment: [{ type: 'randomResizedCrop', size: [6, 6], scale: [0.5, 1] }],
      normalize: { mean: [0.4], std: [0.25] },
      optimizer: { type: 'adam' },
      schedule: [{ epochs: 1, learningRate: 0.01 }],
    };
    await writeFile(config, JSON.stringify(experiment));
    const out = join(dir, 'cropped');
    const trained = await runCli(['train', '--config', config, '--backend', 'wasm', '--out', out]);
    expect(trained.code, trained.stderr).toBe(0);
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
    await expectEvaluationOfSummary(out, summary);
  }, 300_000);

  test.each([
    ['an unknown field', { modle: 1 }, [], (file: string) => `rxvision: ${file}: the experiment: unknown field "modle"`],
    [
      'a wrong value',
      { optimizer: { type: 'sgd', momentum: 1.5 } },
      [],
      (file: string) => `rxvision: ${file}: optimizer.momentum: expected a number < 1, got 1.5`,
    ],
    [
      '--data with Arrow files named',
      {},
      ['--data', 'elsewhere'],
      (file: string) => `rxvision: --data does not apply to ${file}: its dataset names its Arrow files`,
    ],
    [
      '--no-output-relu on a CNN',
      {},
      ['--no-output-relu'],
      (file: string) => `rxvision: --no-output-relu applies to the tutorial model only, and ${file} trains a cnn`,
    ],
  ])(
    '%s fails in one line and leaves no run folder',
    async (name, change, flags, line) => {
      const file = join(dir, `${name.replace(/\W+/g, '-')}.json`);
      const base = JSON.parse(await readFile(join(dir, 'bands.json'), 'utf8'));
      await writeFile(file, JSON.stringify({ ...base, ...change }));
      const out = join(dir, `failed-${name.replace(/\W+/g, '-')}`);
      const result = await runCli(['train', '--config', file, '--backend', 'wasm', '--out', out, ...flags]);
      expect([result.code, result.stderr.trim()]).toEqual([1, line(file)]);
      expect(await exists(out)).toBe(false);
    },
    60_000,
  );

  test("Fashion-MNIST from Debian's package: prepared into data/fashion-mnist of the working folder on first use", async () => {
    const cwd = join(dir, 'fashion');
    await mkdir(cwd);
    const file = join(dir, 'fashion.json');
    await writeFile(
      file,
      JSON.stringify({
        dataset: { type: 'fashion-mnist' },
        limit: 3000,
        validation: 0.1,
        model: { type: 'mlp', hidden: [32] },
        optimizer: { type: 'adam' },
        schedule: [{ epochs: 1, learningRate: 0.002 }],
      }),
    );
    const result = await runCli(['train', '--config', file, '--backend', 'wasm', '--out', 'run', '--json'], {}, { cwd });
    expect(result.code, result.stderr).toBe(0);
    const experiment = JSON.parse(await readFile(join(cwd, 'run', 'experiment.json'), 'utf8'));
    expect(experiment.dataset).toEqual({ type: 'fashion-mnist', dataDir: join(cwd, 'data', 'fashion-mnist') });
    const summary = JSON.parse(await readFile(join(cwd, 'run', 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({
      architecture: 'mlp {"hidden":[32]} on 28×28×1 → 10 classes',
      split: { train: 2700, validation: 300, test: 10000 },
    });
    expect(summary.test.accuracy).toBeGreaterThan(0.5); // an epoch on 2,700 images; chance is 0.1
    expect(Object.keys(summary.test.perClassAccuracy)).toContain('Ankle boot');
  }, 300_000);

  test('a missing file is named', async () => {
    const result = await runCli(['train', '--config', join(dir, 'nope.json'), '--backend', 'wasm']);
    expect([result.code, result.stderr.trim()]).toEqual([1, `rxvision: --config ${join(dir, 'nope.json')}: no such file`]);
  });
});
