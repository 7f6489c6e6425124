import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '@rxvision/backend/node';
import { createCnn } from '@rxvision/model';
import { readClassifierMetadata } from '@rxvision/onnx';
import { asClassifier, predict } from '@rxvision/train';
import { loadClassifier, saveClassifier } from '@rxvision/train/node';
import { lastValueFrom } from 'rxjs';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runCli } from './run-cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rxvision-predict-'));
  await selectBackend('wasm');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

test('predict in code and rxvision predict give the same probabilities for the same PNG', async () => {
  // A classifier saved from code, normalised colour input: its seeded weights give uneven probabilities.
  const model = createCnn({ inputShape: [12, 12, 3], classes: 3, blocks: [4], seed: 5 });
  const run = join(dir, 'run');
  await saveClassifier(
    join(run, 'model'),
    asClassifier(model, { classes: ['red', 'green', 'blue'], normalize: { mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3] } }),
  );
  model.dispose();
  const pixels = Uint8Array.from({ length: 12 * 12 * 3 }, (_, i) => (i * 53) % 256);
  const png = join(dir, 'image.png');
  await sharp(Buffer.from(pixels), { raw: { width: 12, height: 12, channels: 3 } })
    .png()
    .toFile(png);

  const classifier = await loadClassifier(join(run, 'model'));
  const inCode = await lastValueFrom(predict(classifier, { length: 1, shape: [12, 12, 3], image: () => pixels }));
  classifier.model.dispose();
  const cli = await runCli(['predict', '--model', run, '--backend', 'wasm', '--json', '--top', '3', png]);
  expect(cli.code, cli.stderr).toBe(0);
  const byClass = Object.fromEntries(
    (JSON.parse(cli.stdout).top as { class: string; probability: number }[]).map((r) => [r.class, r.probability]),
  );
  expect(Math.max(...inCode) - Math.min(...inCode)).toBeGreaterThan(1e-3); // not a uniform answer that any preprocessing would give
  ['red', 'green', 'blue'].forEach((name, c) => expect(byClass[name]).toBeCloseTo(inCode[c]!, 6));
}, 120_000);

test('predict, evaluate and export take a classifier saved from code: the folder saveClassifier wrote', async () => {
  const model = createCnn({ inputShape: [12, 12, 3], classes: 3, blocks: [4], seed: 6 });
  const saved = join(dir, 'saved');
  await saveClassifier(saved, asClassifier(model, { classes: ['red', 'green', 'blue'] }));
  model.dispose();
  const png = join(dir, 'saved-image.png');
  await sharp(Buffer.from(Uint8Array.from({ length: 12 * 12 * 3 }, (_, i) => (i * 31) % 256)), {
    raw: { width: 12, height: 12, channels: 3 },
  })
    .png()
    .toFile(png);
  const predicted = await runCli(['predict', '--model', saved, '--backend', 'wasm', '--json', png]);
  expect(predicted.code, predicted.stderr).toBe(0);
  expect((JSON.parse(predicted.stdout).top as { class: string }[]).map((r) => r.class)).toContain('red');
  const exported = await runCli(['export', saved]);
  expect([exported.code, exported.stdout.trim()], exported.stderr).toEqual([0, join(saved, 'model.onnx')]);
  expect(readClassifierMetadata(await readFile(join(saved, 'model.onnx'))).classes).toEqual(['red', 'green', 'blue']);
  // Evaluate reaches the data: the classifier was found (a folder of neither kind is refused before).
  const evaluated = await runCli(['evaluate', '--model', saved, '--data', join(dir, 'no-data')]);
  expect(evaluated.stderr).not.toMatch(/neither a run folder/);
  const neither = await runCli(['predict', '--model', dir, png]);
  expect([neither.code, neither.stderr.trim()]).toEqual([
    1,
    `rxvision: ${dir}: neither a run folder (no model/model.json) nor a classifier saved from code (no model.json); pass the --out folder of rxvision train or the folder saveClassifier wrote`,
  ]);
}, 120_000);
