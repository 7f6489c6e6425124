import '@tensorflow/tfjs-backend-cpu';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareIdx } from '@rxvision/dataset/node';
import { evaluate, fit, type TrainingEvent } from '@rxvision/train';
import * as tf from '@tensorflow/tfjs-core';
import { concatMap, lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  composeExperiment,
  ExperimentError,
  type ExperimentInput,
  normalizationOf,
  parseExperiment,
  parseExperimentText,
} from '../src/index.js';

const experiments = fileURLToPath(new URL('../../../experiments/', import.meta.url));
let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'rxvision-experiment-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const minimal: ExperimentInput = {
  dataset: { type: 'cifar10' },
  model: { type: 'tutorial' },
  schedule: [{ epochs: 1, learningRate: 0.1 }],
};
const problem = (value: unknown) => {
  try {
    parseExperiment(value, 'x.json');
  } catch (error) {
    expect(error).toBeInstanceOf(ExperimentError);
    // A line per problem, each naming the file.
    const lines = (error as Error).message.split('\n');
    expect(lines).toHaveLength((error as ExperimentError).problems.length);
    for (const line of lines) expect(line).toMatch(/^x\.json: /);
    return (error as Error).message;
  }
  return 'valid';
};

describe('parseExperiment', () => {
  test('every file in experiments/ is a valid experiment', async () => {
    const files = (await readdir(experiments)).filter((name) => name.endsWith('.json'));
    expect(files).toEqual(expect.arrayContaining(['tutorial.json', 'cifar10-cnn.json', 'fashion-mnist-mlp.json']));
    for (const file of files) expect(() => parseExperimentText(readFileSync(join(experiments, file), 'utf8'), file), file).not.toThrow();
  });

  test("normalize names ImageNet's statistics, as torchvision's pretrained models expect their inputs", () => {
    const experiment = parseExperiment({ ...minimal, normalize: 'imagenet' }, 'x.json');
    expect(normalizationOf(experiment.normalize)).toEqual({ mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    expect(normalizationOf(parseExperiment({ ...minimal, normalize: { mean: [0.5], std: [0.25] } }, 'x.json').normalize)).toEqual({
      mean: [0.5],
      std: [0.25],
    });
    expect(problem({ ...minimal, normalize: 'cifar' })).toMatch(/^x\.json: normalize: /);
  });

  test('ImageNet-shaped networks are model types: ResNet-18/34/50 and MobileNetV2, with a batch-norm momentum', () => {
    expect(parseExperiment({ ...minimal, model: { type: 'imagenet-resnet', depth: 50, batchNormMomentum: 0.95 } }, 'x.json').model).toEqual(
      {
        type: 'imagenet-resnet',
        depth: 50,
        batchNormMomentum: 0.95,
      },
    );
    expect(parseExperiment({ ...minimal, model: { type: 'mobilenet-v2' } }, 'x.json').model).toEqual({ type: 'mobilenet-v2' });
    expect(problem({ ...minimal, model: { type: 'imagenet-resnet', depth: 101 } })).toMatch(/^x\.json: model\.depth: /);
    expect(problem({ ...minimal, model: { type: 'mobilenet-v2', batchNormMomentum: 1 } })).toMatch(/^x\.json: model\.batchNormMomentum: /);
  });

  test('fills the tutorial defaults', () => {
    expect(parseExperiment(minimal, 'x.json')).toMatchObject({
      seed: 43,
      validation: 5000,
      batchSize: 128,
      augment: [],
      optimizer: { type: 'sgd' },
      labelSmoothing: 0,
      topK: [],
    });
  });

  test('a wrong field fails in one line naming the field and what it allows', () => {
    expect(problem({ ...minimal, model: { type: 'vgg' } })).toBe(
      'x.json: model.type: expected one of "tutorial", "mlp", "cnn", "resnet", "airbench", "imagenet-resnet", "mobilenet-v2", "mobilenet-v3", "onnx", "tfjs", got "vgg"',
    );
    expect(problem({ ...minimal, modle: {} })).toBe('x.json: the experiment: unknown field "modle"');
    expect(problem({ ...minimal, batchSize: 0 })).toBe('x.json: batchSize: expected a number > 0, got 0');
    expect(problem({ ...minimal, optimizer: { type: 'sgd', momentum: 1.5 } })).toBe(
      'x.json: optimizer.momentum: expected a number < 1, got 1.5',
    );
    expect(problem({ ...minimal, optimizer: { type: 'adam', maxGradientNorm: 0 } })).toBe(
      'x.json: optimizer.maxGradientNorm: expected a number > 0, got 0',
    );
    expect(problem({ ...minimal, optimizer: { type: 'sgd', maxGradientNorm: 1, maxGradientValue: 0.5 } })).toBe('valid');
    expect(problem({ ...minimal, augment: [{ type: 'flip' }] })).toBe(
      'x.json: augment[0].type: expected one of "randomCrop", "horizontalFlip", "cutout", "colorJitter", "randomRotation", "trivialAugment", "randAugment", "mixup", "cutmix", "randomResizedCrop", got "flip"',
    );
    expect(problem({ ...minimal, augment: [{ type: 'randAugment', magnitude: 9, bins: 9 }] })).toBe(
      'x.json: augment[0].magnitude: expected a bin below bins (9), got 9',
    );
    expect(problem({ ...minimal, augment: [{ type: 'randAugment', magnitude: 8, bins: 9 }] })).toBe('valid');
    expect(problem({ ...minimal, schedule: { type: 'cosine', epochs: 2 } })).toBe('x.json: schedule.peak: missing (expected number)');
    expect(problem({ ...minimal, schedule: [{ epochs: 0, learningRate: 0.1 }] })).toBe(
      'x.json: schedule[0].epochs: expected a number > 0, got 0',
    );
    expect(problem({ ...minimal, schedule: 'fast' })).toBe('x.json: schedule: expected array or object, got "fast"');
    expect(problem({ ...minimal, model: { type: 'mlp', hidden: [] } })).toBe('x.json: model.hidden: expected a list of length ≥ 1, got []');
    expect(problem({ dataset: { type: 'cifar10' } })).toBe(
      'x.json: model: missing (expected object)\nx.json: schedule: expected array or object',
    );
    expect(() => parseExperimentText('{ "seed": ', 'y.json')).toThrow(/^y\.json: is not JSON \(/);
  });

  test('every problem of a file is found at once, a line each (#38)', () => {
    const experiment = { ...minimal, model: { type: 'vgg' }, modle: {}, batchSize: 0, optimizer: { type: 'sgd', momentum: 1.5 } };
    expect(problem(experiment).split('\n')).toEqual([
      'x.json: batchSize: expected a number > 0, got 0',
      'x.json: model.type: expected one of "tutorial", "mlp", "cnn", "resnet", "airbench", "imagenet-resnet", "mobilenet-v2", "mobilenet-v3", "onnx", "tfjs", got "vgg"',
      'x.json: optimizer.momentum: expected a number < 1, got 1.5',
      'x.json: the experiment: unknown field "modle"',
    ]);
  });

  test('text as people save it: a UTF-8 BOM is passed over; UTF-16 is named; no control character is echoed (#34)', () => {
    const json = JSON.stringify(minimal);
    expect(parseExperimentText(`\uFEFF${json}`, 'bom.json')).toEqual(parseExperimentText(json, 'plain.json'));
    const utf16 = Buffer.from(`\uFEFF${json}`, 'utf16le').toString('utf8');
    expect(() => parseExperimentText(utf16, 'wide.json')).toThrow(
      new ExperimentError('wide.json', 'is not UTF-8 text (it holds NUL bytes: saved as UTF-16?); save it as UTF-8'),
    );
    const line = (() => {
      try {
        parseExperimentText('{"seed": \u001b[31m1}', 'esc.json');
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(line).toMatch(/^esc\.json: is not JSON \(.*\\u001b/);
    expect(line).not.toMatch(/[\u0000-\u001f]/);
  });

  test('a key given twice and a number beyond a double are refused, naming the field, not passed on as the last key or as null (#34)', () => {
    const json = JSON.stringify(minimal);
    const twice = json.replace('{', '{"seed": 1, "seed": 2, ');
    expect(() => parseExperimentText(twice, 'twice.json')).toThrow(
      new ExperimentError('twice.json', 'the document: "seed" is given twice (JSON keeps only the last); give it once'),
    );
    const nested = `{"model": {"type": "mlp", "hidden": [4], "hidden": [8]}, "dataset": {"type": "cifar10"}}`;
    expect(() => parseExperimentText(nested, 'x.json')).toThrow(
      new ExperimentError('x.json', 'model: "hidden" is given twice (JSON keeps only the last); give it once'),
    );
    const huge = json.replace('{', '{"schedule": [{"epochs": 1, "learningRate": 1e999}], ');
    expect(() => parseExperimentText(huge, 'huge.json')).toThrow(
      new ExperimentError('huge.json', 'schedule[0].learningRate: 1e999 is beyond the largest number a double holds (about 1.8e308)'),
    );
    // The same keys in different objects, keys inside strings and numbers near the limit are fine.
    const fine = `{"seed": 1e308, "model": {"type": "mlp", "hidden": [4, 4]}, "dataset": {"type": "cifar10", "note": "\\"seed\\": 1, \\"seed\\": 2"}}`;
    expect(() => parseExperimentText(fine, 'fine.json')).not.toThrow(/given twice|beyond/);
    // Read without recursion: a regex over a string's length overflowed the stack at 50 MB.
    const escapes = `{"description": "${'\\n'.repeat(5_000_000)}", "seed": 1, "seed": 2}`;
    expect(() => parseExperimentText(escapes, 'long.json')).toThrow(
      new ExperimentError('long.json', 'the document: "seed" is given twice (JSON keeps only the last); give it once'),
    );
  });

  test("fields that are each valid but not together are refused by the schedule's own rule, as train would (#34)", () => {
    expect(problem({ ...minimal, schedule: { type: 'cosine', epochs: 1, peak: 0.1, warmupEpochs: 5 } })).toBe(
      'x.json: schedule: warmupEpochs (5) must be fewer than epochs (1)',
    );
    expect(problem({ ...minimal, schedule: { type: 'linear', epochs: 3, from: 0.1, to: 0, warmupEpochs: 3 } })).toBe(
      'x.json: schedule: warmupEpochs (3) must be fewer than epochs (3)',
    );
  });

  test('what cannot run is refused with the limit and why: counts, sizes, nesting; long values are quoted cut short', () => {
    expect(problem({ ...minimal, schedule: [{ epochs: 1e15, learningRate: 0.1 }] })).toBe(
      'x.json: schedule[0].epochs: expected a number ≤ 100000 (more epochs than any run finishes), got 1000000000000000',
    );
    expect(problem({ ...minimal, model: { type: 'mlp', hidden: [1e9] } })).toBe(
      'x.json: model.hidden[0]: expected a number ≤ 65536 (wider than a layer that fits in memory), got 1000000000',
    );
    expect(problem({ ...minimal, model: { type: 'cnn', blocks: Array(17).fill(8) } })).toBe(
      `x.json: model.blocks: expected a list of length ≤ 16 (deeper than rxvision builds), got ${JSON.stringify(Array(17).fill(8))}`,
    );
    expect(problem({ ...minimal, augment: [{ type: 'cutout', size: 5000 }] })).toBe(
      'x.json: augment[0].size: expected a number ≤ 4096 (larger than rxvision reads images), got 5000',
    );
    const deep = JSON.parse(`${'['.repeat(10_000)}${']'.repeat(10_000)}`) as unknown;
    expect(problem({ ...minimal, description: deep })).toBe(
      'x.json: the experiment is nested more than 32 levels deep; no field goes that deep',
    );
    const long = 'x'.repeat(50_000_000);
    const line = problem({ ...minimal, model: { type: long } });
    expect(line).toBe(
      `x.json: model.type: expected one of "tutorial", "mlp", "cnn", "resnet", "airbench", "imagenet-resnet", "mobilenet-v2", "mobilenet-v3", "onnx", "tfjs", got "${'x'.repeat(80)}…" (50,000,000 characters)`,
    );
    expect(problem({ ...minimal, description: long })).toBe(
      `x.json: description: expected text of length ≤ 10000 (a description, not a document), got "${'x'.repeat(80)}…" (50,000,000 characters)`,
    );
    expect(problem({ ...minimal, [long]: 1 })).toBe(`x.json: the experiment: unknown field "${'x'.repeat(80)}…" (50,000,000 characters)`);
  });
});

describe('composeExperiment', () => {
  /** 240 grey 8×8 images in four classes, class c brighter in quadrant c: learnable in an epoch. */
  async function tinyDataset(): Promise<string> {
    const rows = 240;
    const pixels = new Uint8Array(rows * 64);
    const labels = Uint8Array.from({ length: rows }, (_, r) => r % 4);
    for (let r = 0; r < rows; r++)
      for (let p = 0; p < 64; p++) {
        const quadrant = (p % 8 < 4 ? 0 : 1) + (p < 32 ? 0 : 2);
        pixels[r * 64 + p] = (quadrant === labels[r] ? 150 : 20) + ((r * 31 + p * 7) % 60);
      }
    const header = (dims: number[]) => {
      const bytes = new Uint8Array(4 + 4 * dims.length);
      bytes.set([0, 0, 8, dims.length]);
      dims.forEach((size, i) => new DataView(bytes.buffer).setUint32(4 + 4 * i, size));
      return bytes;
    };
    await writeFile(join(dir, 'images'), Uint8Array.from([...header([rows, 8, 8]), ...pixels]));
    await writeFile(join(dir, 'labels'), Uint8Array.from([...header([rows]), ...labels]));
    await prepareIdx({
      images: join(dir, 'images'),
      labels: join(dir, 'labels'),
      classes: ['a', 'b', 'c', 'd'],
      out: join(dir, 'tiny.arrow'),
    });
    return 'tiny.arrow';
  }

  test('composes dataset, augmentation, normalisation, model, optimizer, schedule, loss and metrics, and fit runs them', async () => {
    const file = await tinyDataset();
    const experiment = parseExperiment(
      {
        seed: 3,
        dataset: { type: 'arrow', train: file, test: file },
        validation: 40,
        batchSize: 20,
        model: { type: 'cnn', blocks: [8, 16] },
        augment: [{ type: 'randomCrop', padding: 1 }, { type: 'horizontalFlip' }],
        normalize: { mean: [0.3], std: [0.2] },
        optimizer: { type: 'adamw', weightDecay: 0.01 },
        schedule: { type: 'oneCycle', epochs: 2, peak: 0.01 },
        labelSmoothing: 0.1,
        topK: [2],
      },
      'tiny.json',
    );
    const composed = await composeExperiment(experiment, { baseDir: dir });
    expect([composed.train.length, composed.validation.length, composed.fitOptions.trainBatches.stepsPerEpoch]).toEqual([200, 40, 10]);
    const model = composed.createModel();
    expect(model.inputs[0]!.shape).toEqual([null, 8, 8, 1]);
    const twin = composed.createModel();
    expect(twin.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(model.getWeights().map((w) => Array.from(w.dataSync())));
    twin.dispose();
    const events: TrainingEvent[] = await lastValueFrom(fit(model, composed.fitOptions).pipe(toArray()));
    const records = events.flatMap((e) => (e.type === 'epoch' ? [e.record] : []));
    expect(records).toHaveLength(2);
    expect(records[1]!.metrics!.top2).toBeGreaterThanOrEqual(records[1]!.valAccuracy);
    const rates = events.flatMap((e) => (e.type === 'batch' ? [e.learningRate] : []));
    expect(rates[0]).toBeCloseTo(0.01 / 25, 8); // one-cycle's start
    const tested = await lastValueFrom(evaluate(model, composed.testBatches!()));
    expect(tested.accuracy).toBeGreaterThan(0.25); // chance
    model.dispose();
  });

  test('what only the dataset can tell is refused in one line', async () => {
    const file = await tinyDataset();
    const base = {
      dataset: { type: 'arrow', train: file },
      model: { type: 'mlp', hidden: [4] },
      schedule: [{ epochs: 1, learningRate: 0.1 }],
    } as const;
    await expect(
      composeExperiment(parseExperiment({ ...base, validation: 240 }, 'a.json'), { baseDir: dir, source: 'a.json' }),
    ).rejects.toThrow('a.json: validation: expected fewer than the 240 training images, got 240');
    await expect(
      composeExperiment(
        parseExperiment({ ...base, validation: 40, normalize: { mean: [0.5, 0.5, 0.5], std: [0.2, 0.2, 0.2] } }, 'b.json'),
        { baseDir: dir, source: 'b.json' },
      ),
    ).rejects.toThrow('b.json: normalize.mean: expected 1 values (one per channel), got 3');
    await expect(
      composeExperiment(parseExperiment({ ...base, dataset: { type: 'arrow', train: 'missing.arrow' } }, 'c.json'), { baseDir: dir }),
    ).rejects.toThrow(/missing\.arrow/);
    await expect(
      composeExperiment(parseExperiment({ ...base, validation: 0.001 }, 'd.json'), { baseDir: dir, source: 'd.json' }),
    ).rejects.toThrow('d.json: validation: 0.001 of 240 images holds none out');

    // The model builders' checks, before a model is built: too deep for the images, too large to allocate.
    await expect(
      composeExperiment(parseExperiment({ ...base, validation: 40, model: { type: 'cnn', blocks: [8, 8, 8, 8] } }, 'f.json'), {
        baseDir: dir,
        source: 'f.json',
      }),
    ).rejects.toThrow('f.json: model: 4 blocks halve 8×8 images below one pixel; use at most 3 (for 8×8×1 images in 4 classes)');
    const parameters = (64 + 1) * 60_000 + (60_000 + 1) * 60_000 + (60_000 + 1) * 4;
    await expect(
      composeExperiment(parseExperiment({ ...base, validation: 40, model: { type: 'mlp', hidden: [60_000, 60_000] } }, 'g.json'), {
        baseDir: dir,
        source: 'g.json',
      }),
    ).rejects.toThrow(
      `g.json: model: ${parameters.toLocaleString('en-US')} parameters (${((parameters * 4) / 1e9).toFixed(1)} GB of float32 weights, and as much again to train them); at most 500,000,000 (for 8×8×1 images in 4 classes)`,
    );
  });

  test('a fractional validation holds out that share of the (limited) training images', async () => {
    const file = await tinyDataset();
    const experiment = parseExperiment(
      {
        dataset: { type: 'arrow', train: file },
        validation: 0.1,
        limit: 155,
        model: { type: 'mlp', hidden: [4] },
        schedule: [{ epochs: 1, learningRate: 0.1 }],
      },
      'e.json',
    );
    const composed = await composeExperiment(experiment, { baseDir: dir });
    expect([composed.train.length, composed.validation.length]).toEqual([139, 16]); // 15.5 rounds to 16
  });

  test('a split stored in several files is read as one, shard after shard', async () => {
    const file = await tinyDataset();
    const experiment = parseExperiment(
      {
        dataset: { type: 'arrow', train: [file, file, file], test: [file, file] },
        validation: 20,
        model: { type: 'mlp', hidden: [4] },
        schedule: [{ epochs: 1, learningRate: 0.1 }],
      },
      'f.json',
    );
    const composed = await composeExperiment(experiment, { baseDir: dir });
    expect([composed.train.length, composed.validation.length, composed.train.classes]).toEqual([700, 20, ['a', 'b', 'c', 'd']]);
    const tested = await lastValueFrom(
      composed.testBatches!().pipe(
        concatMap((pending) => pending),
        toArray(),
      ),
    );
    expect(tested.reduce((sum, batch) => sum + batch.size, 0)).toBe(480);
    tested.forEach((batch) => tf.dispose([batch.xs, batch.ys]));
  });

  test('CIFAR-100 is prepared from its source into data/cifar100-<labels> on first use, with the labels asked for', async () => {
    // The official layout at full size (the spec knows the record counts): coarse byte, fine byte, planes.
    const raw = join(dir, 'cifar-100-binary');
    await mkdir(raw, { recursive: true });
    for (const [name, records] of [
      ['train.bin', 50_000],
      ['test.bin', 10_000],
    ] as const) {
      const bytes = new Uint8Array(records * 3074);
      for (let r = 0; r < records; r++) bytes.set([r % 20, r % 100], r * 3074);
      await writeFile(join(raw, name), bytes);
    }
    const experiment = parseExperiment(
      {
        dataset: { type: 'cifar100', labels: 'coarse', source: 'cifar-100-binary' },
        limit: 200,
        validation: 20,
        model: { type: 'mlp', hidden: [4] },
        schedule: [{ epochs: 1, learningRate: 0.1 }],
      },
      'g.json',
    );
    const composed = await composeExperiment(experiment, { baseDir: dir });
    expect([composed.train.classes.length, composed.train.classes[0], composed.train.length + composed.validation.length]).toEqual([
      20,
      'aquatic_mammals',
      200,
    ]);
    expect(await readdir(join(dir, 'data', 'cifar100-coarse'))).toEqual(['test.arrow', 'train.arrow']);
    const labels = Array.from({ length: composed.train.length }, (_, i) => composed.train.label(i));
    expect(Math.max(...labels)).toBe(19); // coarse labels: r % 20 over the first 200 rows
  }, 60_000);

  test('an image folder is prepared into dataDir on first use, and its test split must match its training split', async () => {
    const sharp = (await import('sharp')).default;
    const png = (rgb: number[], size: number) =>
      sharp(Buffer.from(Array.from({ length: size * size }, () => rgb).flat()), { raw: { width: size, height: size, channels: 3 } })
        .png()
        .toBuffer();
    for (const [split, count, size] of [
      ['photos/train', 30, 6],
      ['photos/test', 6, 6],
      ['photos/small', 4, 4],
    ] as const) {
      for (const [name, rgb] of [
        ['bright', [230, 220, 210]],
        ['dark', [20, 30, 40]],
      ] as const) {
        await mkdir(join(dir, split, name), { recursive: true });
        for (let i = 0; i < count / 2; i++)
          await writeFile(
            join(dir, split, name, `${i}.png`),
            await png(
              rgb.map((v) => v + i),
              size,
            ),
          );
      }
    }
    const experiment = parseExperiment(
      {
        dataset: { type: 'image-folder', train: 'photos/train', test: 'photos/test', dataDir: 'prepared' },
        validation: 6,
        batchSize: 8,
        model: { type: 'mlp', hidden: [4] },
        schedule: [{ epochs: 1, learningRate: 0.1 }],
      },
      'f.json',
    );
    await expect(composeExperiment({ ...experiment, batchSize: 25 }, { baseDir: dir, source: 'f.json' })).rejects.toThrow(
      'f.json: batchSize: 25 is larger than the training split (24 images)',
    );
    const composed = await composeExperiment(experiment, { baseDir: dir });
    expect([composed.train.length, composed.validation.length, composed.train.classes, composed.train.shape]).toEqual([
      24,
      6,
      ['bright', 'dark'],
      [6, 6, 3],
    ]);
    expect((await readdir(join(dir, 'prepared'))).sort()).toEqual(['test.arrow', 'train.arrow']);
    const mismatched = parseExperiment(
      { ...experiment, dataset: { type: 'image-folder', train: 'photos/train', test: 'photos/small', dataDir: 'prepared-2' } },
      'g.json',
    );
    await expect(composeExperiment(mismatched, { baseDir: dir, source: 'g.json' })).rejects.toThrow(
      'g.json: dataset: the test split (4×4×3, classes bright, dark) does not match the training split (6×6×3, classes bright, dark)',
    );
  });
});
