import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './run-cli.js';
import { writeSmallCifar } from './small-cifar-fixture.js';

let dir: string;
let data: string;
let run: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-commands-'));
  // CIFAR-10's shape and classes, made here: the commands need no real CIFAR-10 (prepare's tests read that).
  data = await writeSmallCifar(join(dir, 'data'), { train: 2000, test: 500 });
  run = join(dir, 'run');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('the commands on a CIFAR-shaped data folder, run as a user would', () => {
  test('train (a short run) writes the model (tfjs and ONNX), history, summary and the three charts', async () => {
    const result = await runCli(['train', '--data', data, '--schedule', '2@0.05', '--limit', '2000', '--out', run, '--json']);
    expect(result.code, result.stderr).toBe(0);
    // Checkpoints and validation leave nothing behind: as many live tensors after each epoch.
    const epochLines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .filter((line) => 'valAccuracy' in line && 'tensors' in line);
    expect(epochLines).toHaveLength(2);
    expect(epochLines[1].tensors).toBe(epochLines[0].tensors);
    expect((await readdir(run)).sort()).toEqual([
      'accuracy.png',
      'checkpoint',
      'confusion-matrix.png',
      'experiment.json',
      'history.json',
      'loss.png',
      'model',
      'model.onnx',
      'progress.json',
      'samples.png',
      'summary.json',
      'top-losses.json',
    ]);
    const summary = JSON.parse(await readFile(join(run, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({
      architecture: '3072→1650→512→138→10',
      epochs: 2,
      batchSize: 128,
      seed: 43,
      split: { train: 1800, validation: 200, test: 500 },
    });
    // It learned (well above chance, 0.1; its training loss fell), and the figure is the confusion
    // matrix's: the test split has 50 images a class, so it is the mean of the classes'.
    expect(summary.test.accuracy).toBeGreaterThan(0.3);
    const perClass = Object.values(summary.test.perClassAccuracy as Record<string, number>);
    expect(perClass).toHaveLength(10);
    expect(summary.test.accuracy).toBeCloseTo(perClass.reduce((sum, accuracy) => sum + accuracy, 0) / 10, 10);
    const history = JSON.parse(await readFile(join(run, 'history.json'), 'utf8'));
    expect(history).toHaveLength(2);
    expect(history[1].trainLoss).toBeLessThan(history[0].trainLoss);
    for (const chart of ['loss.png', 'accuracy.png', 'confusion-matrix.png']) {
      expect((await sharp(join(run, chart)).metadata()).format).toBe('png');
    }
    // The first 64 training images for the dashboard: 16 per row, each 32×32 with 2 pixels between, drawn twice as large.
    const samples = await sharp(join(run, 'samples.png')).metadata();
    expect([samples.format, samples.width, samples.height]).toEqual(['png', 2 * (16 * 34 + 2), 2 * (4 * 34 + 2)]);
    // The 16 test images it gets most wrong, worst first, each with its classes and its 32×32 image.
    const top = JSON.parse(await readFile(join(run, 'top-losses.json'), 'utf8'));
    expect(top).toHaveLength(16);
    const classes = Object.keys(summary.test.perClassAccuracy);
    for (const [i, entry] of top.entries()) {
      expect(classes).toContain(entry.label);
      expect(classes).toContain(entry.predicted);
      expect(entry.loss).toBeCloseTo(-Math.log(entry.trueProbability), 5);
      if (i > 0) expect(entry.loss).toBeLessThanOrEqual(top[i - 1].loss);
      const image = await sharp(Buffer.from(entry.image.replace(/^data:image\/png;base64,/, ''), 'base64')).metadata();
      expect([image.format, image.width, image.height]).toEqual(['png', 32, 32]);
    }
    expect(new Set(top.map((entry: { row: number }) => entry.row)).size).toBe(16);
    expect(top.at(-1).loss).toBeGreaterThan(summary.test.loss); // the worst, not any
  }, 300_000);

  test('explore describes the data and draws the first 128 images 16 per row', async () => {
    const out = join(dir, 'explore');
    const result = await runCli(['explore', '--data', data, '--out', out, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const description = JSON.parse(result.stdout);
    expect(description).toMatchObject({
      datasetSize: 2000,
      testSize: 500,
      imageShape: [32, 32, 3],
      sample: { label: 0, className: 'airplane' },
    });
    expect(description.classCounts.test.cat).toBe(50);
    const grid = sharp(join(out, 'samples.png'));
    const meta = await grid.metadata();
    expect([meta.width, meta.height]).toEqual([2 * (16 * 34 + 2), 2 * (8 * 34 + 2)]);
    // Image 0 starts after 2 px of padding (4 px at 2x); its first pixel is the fixture's first: inside
    // class 0's bright block, 150 plus the texture of channels 0, 1, 2 (0, 11, 22).
    const { data: pixel } = await grid.extract({ left: 4, top: 4, width: 1, height: 1 }).raw().toBuffer({ resolveWithObject: true });
    expect(Array.from(pixel.subarray(0, 3))).toEqual([150, 161, 172]);
  });

  test('evaluate reports test loss, accuracy and per-class accuracy', async () => {
    const result = await runCli(['evaluate', '--model', run, '--data', data, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const evaluation = JSON.parse(result.stdout);
    const summary = JSON.parse(await readFile(join(run, 'summary.json'), 'utf8'));
    expect(evaluation.accuracy).toBeCloseTo(summary.test.accuracy, 10);
    expect(Object.keys(evaluation.perClassAccuracy)).toHaveLength(10);
    // Precision, recall and F1 (#38): recall is the per-class accuracy, weighted recall the accuracy,
    // and the run's summary holds the same figures for its test split.
    for (const [name, scores] of Object.entries(evaluation.perClass as Record<string, { recall: number; support: number }>)) {
      expect(scores.recall).toBeCloseTo(evaluation.perClassAccuracy[name], 12);
      expect(scores).toEqual(summary.test.perClass[name]);
    }
    expect(evaluation.weighted.recall).toBeCloseTo(evaluation.accuracy, 12);
    expect(evaluation.macro.f1).toBeCloseTo(summary.test.macroF1, 12);
    const table = await runCli(['evaluate', '--model', run, '--data', data]);
    expect(table.stdout.split('\n')[1]).toMatch(/^\s+precision\s+recall\s+f1\s+images$/);
    expect(table.stdout).toMatch(/\n {2}macro avg\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+\d+\n/);
  });

  test('predict ranks classes for PNG and JPEG files, resizing them', async () => {
    const png = join(dir, 'explore', 'sample.png');
    const jpeg = join(dir, 'frog.jpg');
    await sharp(png).jpeg().toFile(jpeg);
    const result = await runCli(['predict', '--model', run, '--json', '--top', '2', png, jpeg]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.image)).toEqual([png, jpeg]);
    for (const line of lines) {
      expect(line.top).toHaveLength(2);
      expect(line.top[0].probability).toBeGreaterThanOrEqual(line.top[1].probability);
    }
  });

  test('predict: an image that is not one, a wrong size with --no-resize, a folder that is not a run', async () => {
    const text = join(dir, 'notes.png');
    await writeFile(text, 'not an image');
    let result = await runCli(['predict', '--model', run, text]);
    expect([result.code, result.stderr.trim()]).toEqual([1, `rxvision: ${text}: not a PNG or JPEG image`]);
    const big = join(dir, 'explore', 'samples.png');
    result = await runCli(['predict', '--model', run, '--no-resize', big]);
    expect([result.code, result.stderr.trim()]).toEqual([
      1,
      `rxvision: ${big}: 1092×548 pixels; the model takes 32×32 (leave out --no-resize to resize)`,
    ]);
    result = await runCli(['evaluate', '--model', data, '--data', data]);
    expect([result.code, result.stderr.trim()]).toEqual([
      1,
      `rxvision: ${data}: neither a run folder (no model/model.json) nor a classifier saved from code (no model.json); pass the --out folder of rxvision train or the folder saveClassifier wrote`,
    ]);
  });
});

describe('commands without data', () => {
  test('explore with a missing dataset and a missing source: one line, exit 1', async () => {
    const nowhere = join(tmpdir(), 'rxvision-no-such-source.tar.gz');
    const result = await runCli(['explore', '--data', join(tmpdir(), 'rxvision-none'), '--out', join(tmpdir(), 'rxvision-none-out')], {
      RXVISION_CIFAR10_SOURCE: nowhere,
    });
    expect([result.code, result.stderr.trim()]).toEqual([
      1,
      `rxvision: ${nowhere}: does not exist (expected a .tar.gz file, a cifar-10-batches-bin folder or a URL)`,
    ]);
  });

  test('every command has --help', async () => {
    for (const command of ['prepare', 'explore', 'train', 'evaluate', 'predict']) {
      const result = await runCli([command, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Usage: rxvision ${command}`);
    }
  });
});
