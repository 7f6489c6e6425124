import type { Random } from '@rxvision/dataset';
import { AUGMENTATION_STREAMS, checkSeed, imageRandom } from './image-random.js';
import type { ImageBatch } from './image-batch.js';
import { type ImageTransform, mapImages } from './map-images.js';

export interface MixOptions {
  /** The Beta(α, α) the mixing weight λ is drawn from (timm's defaults: 0.8 for mixup, 1 for cutmix). */
  readonly alpha: number;
  readonly classes: number;
  readonly seed: number;
}

/**
 * mixup (Zhang et al., 2018) as timm's `Mixup` in batch mode: one λ ~ Beta(α, α) per batch, each image
 * mixed with the batch's reverse (image i with image n−1−i), λ of it and 1−λ of its partner, and its
 * targets likewise. Drawn from (seed, epoch, batch index): the same after a resume.
 */
export function mixup(options: MixOptions): ImageTransform {
  checkMix('mixup', options);
  return mapImages((batch) => {
    const lambda = betaSample(batchRandom(options.seed, batch, AUGMENTATION_STREAMS.mixup), options.alpha);
    mixPixels(batch.pixels, batch.rows.length, lambda);
    return { ...batch, targets: mixTargets(targetsOf(batch, options.classes), options.classes, lambda) };
  });
}

/**
 * CutMix (Yun et al., 2019) as timm's: one λ ~ Beta(α, α) per batch sets a box of 1−λ of the image
 * (sides √(1−λ) of the image's, centred on a random pixel, cut by the edges), pasted from the batch's
 * reverse; the targets mixed by the share of the image the box really covers.
 */
export function cutmix(options: MixOptions): ImageTransform {
  checkMix('cutmix', options);
  return mapImages((batch) => {
    const random = batchRandom(options.seed, batch, AUGMENTATION_STREAMS.cutmix);
    const box = cutmixBox(batch.shape, betaSample(random, options.alpha), random);
    pasteBox(batch.pixels, batch.rows.length, batch.shape, box);
    const [height, width] = batch.shape;
    const kept = 1 - ((box.bottom - box.top) * (box.right - box.left)) / (height * width);
    return { ...batch, targets: mixTargets(targetsOf(batch, options.classes), options.classes, kept) };
  });
}

function checkMix(name: string, { alpha, classes, seed }: MixOptions): void {
  if (!(alpha > 0 && Number.isFinite(alpha))) throw new RangeError(`${name}: alpha must be above 0, got ${alpha}`);
  if (!Number.isInteger(classes) || classes < 2) throw new RangeError(`${name}: classes must be an integer of at least 2, got ${classes}`);
  checkSeed(name, seed);
}

/** One batch's draws: a function of (seed, epoch, batch index), in the place of a row, on the augmentation's own stream. */
const batchRandom = (seed: number, batch: ImageBatch, stream: number) => imageRandom(seed, batch.epoch, batch.index, stream);

/** The batch's targets so far: mixed by an earlier step, else its labels one-hot. */
function targetsOf(batch: ImageBatch, classes: number): Float32Array {
  if (batch.targets) return batch.targets;
  const targets = new Float32Array(batch.labels.length * classes);
  batch.labels.forEach((label, i) => (targets[i * classes + label] = 1));
  return targets;
}

/** x_i ← λ·x_i + (1−λ)·x_{n−1−i} for every image, in place (pairs at once, so no copy). */
export function mixPixels(pixels: Float32Array, count: number, lambda: number): void {
  const length = pixels.length / count;
  for (let i = 0; i < count >> 1; i++) {
    const a = i * length;
    const b = (count - 1 - i) * length;
    for (let k = 0; k < length; k++) {
      const x = pixels[a + k]!;
      const y = pixels[b + k]!;
      pixels[a + k] = lambda * x + (1 - lambda) * y;
      pixels[b + k] = lambda * y + (1 - lambda) * x;
    }
  }
}

/** The targets mixed as the pixels are: t_i ← λ·t_i + (1−λ)·t_{n−1−i}, a new array. */
export function mixTargets(targets: Float32Array, classes: number, lambda: number): Float32Array {
  const mixed = new Float32Array(targets.length);
  const count = targets.length / classes;
  for (let i = 0; i < count; i++)
    for (let c = 0; c < classes; c++)
      mixed[i * classes + c] = lambda * targets[i * classes + c]! + (1 - lambda) * targets[(count - 1 - i) * classes + c]!;
  return mixed;
}

export interface Box {
  readonly top: number;
  readonly bottom: number;
  readonly left: number;
  readonly right: number;
}

/** timm's `rand_bbox`: sides ⌊H·√(1−λ)⌋ by ⌊W·√(1−λ)⌋ about a random centre, cut by the edges. */
export function cutmixBox([height, width]: ImageBatch['shape'], lambda: number, random: Random): Box {
  const ratio = Math.sqrt(1 - lambda);
  const [cutHeight, cutWidth] = [Math.trunc(height * ratio), Math.trunc(width * ratio)];
  const [centreY, centreX] = [random.nextInt(height), random.nextInt(width)];
  const clip = (v: number, size: number) => Math.min(size, Math.max(0, v));
  return {
    top: clip(centreY - (cutHeight >> 1), height),
    bottom: clip(centreY + (cutHeight >> 1), height),
    left: clip(centreX - (cutWidth >> 1), width),
    right: clip(centreX + (cutWidth >> 1), width),
  };
}

/** x_i[box] ← x_{n−1−i}[box] for every image, in place: the pairs' boxes swapped. */
export function pasteBox(pixels: Float32Array, count: number, [height, width, channels]: ImageBatch['shape'], box: Box): void {
  const image = height * width * channels;
  for (let i = 0; i < count >> 1; i++)
    for (let y = box.top; y < box.bottom; y++) {
      const a = i * image + (y * width + box.left) * channels;
      const b = (count - 1 - i) * image + (y * width + box.left) * channels;
      for (let k = 0; k < (box.right - box.left) * channels; k++) {
        const x = pixels[a + k]!;
        pixels[a + k] = pixels[b + k]!;
        pixels[b + k] = x;
      }
    }
}

/** A draw from Beta(α, α): X / (X + Y) of two Gamma(α) draws. */
export function betaSample(random: Random, alpha: number): number {
  const x = gammaSample(random, alpha);
  const y = gammaSample(random, alpha);
  return x + y === 0 ? 0.5 : x / (x + y);
}

/** Marsaglia and Tsang's Gamma(α, 1) sampler; below α = 1, Gamma(α + 1)·U^(1/α). */
function gammaSample(random: Random, alpha: number): number {
  if (alpha < 1) return gammaSample(random, alpha + 1) * Math.pow(1 - random.nextFloat(), 1 / alpha);
  const d = alpha - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normalSample(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random.nextFloat();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** A standard normal draw (Box–Muller). */
function normalSample(random: Random): number {
  const u = 1 - random.nextFloat();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextFloat());
}
