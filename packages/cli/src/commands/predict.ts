import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { selectBackend } from '@rxvision/backend/node';
import type { ImageShape } from '@rxvision/dataset';
import { loadImageDecoder } from '@rxvision/dataset/node';
import type { Command } from 'commander';
import sharp from 'sharp';
import { BACKEND_FLAG, BACKEND_HELP, backendChoice, THREADS_FLAG, THREADS_HELP, threadsChoice } from '../backend-option.js';
import { CliError } from '../cli-error.js';
import { predict, topClasses } from '@rxvision/train';
import { lastValueFrom, toArray } from 'rxjs';
import { loadRunClassifier } from '../run-folder.js';

export interface PredictFlags {
  readonly model: string;
  readonly top: string;
  readonly resize: boolean;
  readonly backend: string;
  readonly threads?: string;
  readonly json?: boolean;
}

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('classify PNG or JPEG images with a trained run')
    .argument('<image...>', 'PNG or JPEG files')
    .requiredOption('--model <run>', 'run folder written by rxvision train')
    .option('--top <k>', 'how many classes to show', '3')
    .option('--no-resize', 'refuse images that are not 32×32 instead of resizing them')
    .option(BACKEND_FLAG, BACKEND_HELP, 'auto')
    .option(THREADS_FLAG, THREADS_HELP)
    .option('--json', 'print one JSON line per image')
    .action(async (images: string[], flags: PredictFlags) => {
      await runPredict(images, flags);
    });
}

export async function runPredict(images: readonly string[], flags: PredictFlags): Promise<void> {
  const backend = backendChoice(flags.backend);
  const threads = threadsChoice(flags.threads);
  const top = Number(flags.top);
  if (!Number.isInteger(top) || top < 1) throw new CliError(`--top must be a positive integer, got "${flags.top}"`);
  await selectBackend(backend, { ...(threads !== undefined && { threads }) });
  const classifier = await loadRunClassifier(flags.model);
  const { imageShape } = classifier;
  // Read every image first: a bad one fails the command before any output.
  const pixels = await Promise.all(images.map((path) => readImage(resolve(path), imageShape, flags.resize)));
  // Preprocessed by the same batch stream and transforms as the run's validation (pixels to [0, 1], its normalisation).
  const rows = await lastValueFrom(
    predict(classifier, { length: pixels.length, shape: imageShape, image: (i) => pixels[i]! }).pipe(toArray()),
  );
  classifier.model.dispose();
  rows.forEach((row, i) => {
    const ranked = topClasses(classifier, row, top);
    if (flags.json) console.log(JSON.stringify({ image: images[i], top: ranked }));
    else console.log(`${images[i]}: ${ranked.map((r) => `${r.class} ${(100 * r.probability).toFixed(1)}%`).join(', ')}`);
  });
}

/** sharp's own default: larger images are refused before they are decoded. */
const MAX_PIXELS = 0x3fff * 0x3fff;

/** The image's pixels in the model's shape (HWC; grey or RGB), resized unless `resize` is off. */
async function readImage(path: string, [height, width, channels]: ImageShape, resize: boolean): Promise<Uint8Array> {
  let meta: sharp.Metadata;
  try {
    meta = await sharp(path, { limitInputPixels: false }).metadata(); // the header only
  } catch {
    const found = await stat(path).catch(() => undefined);
    throw new CliError(
      `${path}: ${!found ? 'no such file' : found.isDirectory() ? 'is a folder, not an image' : 'not a PNG or JPEG image'}`,
    );
  }
  if (meta.format !== 'png' && meta.format !== 'jpeg') throw new CliError(`${path}: a ${meta.format} image; expected PNG or JPEG`);
  if (meta.width * meta.height > MAX_PIXELS) {
    throw new CliError(`${path}: ${meta.width}×${meta.height} pixels is too large (at most ${Math.round(MAX_PIXELS / 1e6)} megapixels)`);
  }
  if (!resize && (meta.width !== width || meta.height !== height)) {
    throw new CliError(
      `${path}: ${meta.width}×${meta.height} pixels; the model takes ${width}×${height} (leave out --no-resize to resize)`,
    );
  }
  // Decoded as an image folder's training images are (`prepareImageFolder`): the same colour conversion and resize.
  if (channels !== 1 && channels !== 3)
    throw new CliError(`${path}: the model takes images of ${channels} channels; predict reads grey or RGB ones`);
  const decoder = await loadImageDecoder(path);
  return decoder.decode(path, path, { height, width, channels, resize: true, first: path });
}
