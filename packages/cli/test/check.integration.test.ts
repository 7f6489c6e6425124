import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageDatasetWriter } from '@rxvision/dataset/node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './run-cli.js';

// rxvision check: an experiment file validated against its data without training.
let dir: string;
const base = {
  dataset: { type: 'arrow', train: 'bands.arrow', test: 'bands.arrow' },
  validation: 30,
  batchSize: 32,
  model: { type: 'cnn', blocks: [4, 8] },
  augment: [{ type: 'horizontalFlip' }],
  schedule: [{ epochs: 1, learningRate: 0.05 }],
  earlyStopping: { monitor: 'valLoss', patience: 3 },
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-check-'));
  const writer = await ImageDatasetWriter.create(join(dir, 'bands.arrow'), {
    classes: ['top', 'middle', 'bottom'],
    shape: [8, 8, 1],
    rows: 300,
  });
  for (let row = 0; row < 300; row++)
    await writer.append(
      Uint8Array.from({ length: 64 }, (_, i) => (row * 7 + i) % 256),
      row % 3,
    );
  await writer.commit();
  await writeFile(join(dir, 'good.json'), JSON.stringify({ $schema: '../packages/experiment/experiment.schema.json', ...base }));
  await writeFile(join(dir, 'deep.json'), JSON.stringify({ ...base, model: { type: 'cnn', blocks: [4, 4, 4, 4] } }));
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('rxvision check', () => {
  test("prints the experiment as it would run, writing nothing; the parameters are the trained model's", async () => {
    const before = (await readdir(dir)).sort();
    const result = await runCli(['check', join(dir, 'good.json')], {}, { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual([
      `${join(dir, 'good.json')}: valid`,
      '  data      270 training, 30 validation, 300 test images of 8×8×1 in 3 classes (top, middle, bottom)',
      expect.stringMatching(/^ {2}model {5}cnn \{"blocks":\[4,8\]\}: [\d,]+ parameters$/),
      '  training  1 epochs of 9 steps (batch 32), sgd, augmented by horizontalFlip',
      '  stopping  early stopping on valLoss (patience 3)',
      expect.stringMatching(/^ {2}backend {3}(onednn|onnxruntime|wasm|cpu|tensorflow|webgpu): a training step at batch 32 fits$/),
    ]);
    expect((await readdir(dir)).sort()).toEqual(before);

    const json = JSON.parse((await runCli(['check', join(dir, 'good.json'), '--json'])).stdout) as {
      parameters: number;
      experiment: Record<string, unknown>;
    };
    expect(json.experiment).toMatchObject({ seed: 43, batchSize: 32, labelSmoothing: 0 }); // defaults filled in
    expect(json.experiment.$schema).toBeUndefined();
    const run = join(dir, 'run');
    expect((await runCli(['train', '--config', join(dir, 'good.json'), '--out', run, '--backend', 'wasm'])).code).toBe(0);
    const summary = JSON.parse(await readFile(join(run, 'summary.json'), 'utf8')) as { parameters: number };
    expect(json.parameters).toBe(summary.parameters);
  });

  test('a cosine warm-up longer than the run: check refuses it as train would, in one line, and train writes nothing (#34)', async () => {
    const file = join(dir, 'warmup.json');
    await writeFile(file, JSON.stringify({ ...base, schedule: { type: 'cosine', epochs: 1, peak: 0.1, warmupEpochs: 5 } }));
    const line = `rxvision: ${file}: schedule: warmupEpochs (5) must be fewer than epochs (1)`;
    const checked = await runCli(['check', file]);
    expect([checked.code, checked.stderr.trim()]).toEqual([1, line]);
    const run = join(dir, 'warmup-run');
    const trained = await runCli(['train', '--config', file, '--out', run, '--backend', 'wasm']);
    expect([trained.code, trained.stderr.trim()]).toEqual([1, line]);
    expect(await readdir(run).catch(() => [])).toEqual([]);
  });

  test('a file saved with a UTF-8 BOM is checked as it is; one saved as UTF-16 is one line with no NUL byte (#34)', async () => {
    const text = await readFile(join(dir, 'good.json'), 'utf8');
    await writeFile(join(dir, 'bom.json'), `\uFEFF${text}`);
    expect((await runCli(['check', join(dir, 'bom.json')], {}, { cwd: dir })).code).toBe(0);
    const wide = join(dir, 'wide.json');
    await writeFile(wide, Buffer.from(`\uFEFF${text}`, 'utf16le'));
    const result = await runCli(['check', wide]);
    expect([result.code, result.stderr]).toEqual([
      1,
      `rxvision: ${wide}: is not UTF-8 text (it holds NUL bytes: saved as UTF-16?); save it as UTF-8\n`,
    ]);
  });

  test('a key given twice or a number beyond a double is one line naming the field, from check and train alike (#34)', async () => {
    const text = await readFile(join(dir, 'good.json'), 'utf8');
    const twice = join(dir, 'twice.json');
    await writeFile(twice, text.replace('{', '{"batchSize": 1000000, "batchSize": 4, '));
    expect(await runCli(['check', twice])).toMatchObject({
      code: 1,
      stderr: `rxvision: ${twice}: the document: "batchSize" is given twice (JSON keeps only the last); give it once\n`,
    });
    const huge = join(dir, 'huge.json');
    await writeFile(huge, text.replace('{', '{"seed": 1e999, '));
    const line = `rxvision: ${huge}: seed: 1e999 is beyond the largest number a double holds (about 1.8e308)\n`;
    expect(await runCli(['check', huge])).toMatchObject({ code: 1, stderr: line });
    const run = join(dir, 'huge-run');
    expect(await runCli(['train', '--config', huge, '--out', run, '--backend', 'wasm'])).toMatchObject({ code: 1, stderr: line });
    expect(await readdir(run).catch(() => [])).toEqual([]);
  });

  test("a batch whose training step does not fit the backend's memory: check refuses it as train would, naming a batch that fits (#34)", async () => {
    // 300 images of 160×160 with 64 filters: at batch 270 a step needs more than tfjs-wasm's 4 GB heap.
    const writer = await ImageDatasetWriter.create(join(dir, 'large.arrow'), { classes: ['a', 'b'], shape: [160, 160, 1], rows: 300 });
    for (let row = 0; row < 300; row++)
      await writer.append(
        Uint8Array.from({ length: 160 * 160 }, (_, i) => (row * 7 + i) % 256),
        row % 2,
      );
    await writer.commit();
    const file = join(dir, 'huge-batch.json');
    await writeFile(
      file,
      JSON.stringify({ ...base, dataset: { type: 'arrow', train: 'large.arrow' }, batchSize: 270, model: { type: 'cnn', blocks: [64] } }),
    );
    const result = await runCli(['check', file, '--backend', 'onednn']);
    expect([result.code, result.stdout, result.stderr.trim()]).toEqual([
      1,
      '',
      expect.stringMatching(
        /^rxvision: .*huge-batch\.json: batchSize: a training step at 270 does not fit: the onednn backend's memory is full .*; a batch of \d+ fits$/,
      ),
    ]);
  });

  test('what is wrong, in one line: against the schema, and against the data', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ ...base, batchSize: 0 }));
    expect(await runCli(['check', bad])).toMatchObject({
      code: 1,
      stdout: '',
      stderr: `rxvision: ${bad}: batchSize: expected a number > 0, got 0\n`,
    });
    expect(await runCli(['check', join(dir, 'deep.json')])).toMatchObject({
      code: 1,
      stderr: `rxvision: ${join(dir, 'deep.json')}: model: 4 blocks halve 8×8 images below one pixel; use at most 3 (for 8×8×1 images in 3 classes)\n`,
    });
  });

  test('every problem of a file, a line each, so that it is fixed in one pass (#38)', async () => {
    const bad = join(dir, 'two-problems.json');
    await writeFile(bad, JSON.stringify({ ...base, batchSize: 0, augment: [{ type: 'flip' }] }));
    const { code, stderr } = await runCli(['check', bad]);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([
      `rxvision: ${bad}: batchSize: expected a number > 0, got 0`,
      `rxvision: ${bad}: augment[0].type: expected one of "randomCrop", "horizontalFlip", "cutout", "colorJitter", "randomRotation", "trivialAugment", "randAugment", "mixup", "cutmix", "randomResizedCrop", got "flip"`,
    ]);
  });
});
