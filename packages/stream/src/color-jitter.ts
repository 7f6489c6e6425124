import { adjustBrightness, adjustContrast, adjustHue, adjustSaturation } from './color-kernels.js';
import { AUGMENTATION_STREAMS, checkSeed, imageRandom } from './image-random.js';
import { type ImageTransform, mapImages } from './map-images.js';

/** A factor's range: `x` for [max(0, 1 − x), 1 + x] (hue: [−x, x]), or [low, high]. */
export type JitterRange = number | readonly [number, number];

export interface ColorJitterOptions {
  readonly brightness?: JitterRange;
  readonly contrast?: JitterRange;
  readonly saturation?: JitterRange;
  /** In turns of the colour wheel, within [−0.5, 0.5]. */
  readonly hue?: JitterRange;
  readonly seed: number;
}

/** One image's draw: the order of the four adjustments (0 brightness … 3 hue) and each factor (absent: not applied). */
export interface JitterDraw {
  readonly order: readonly number[];
  readonly factors: readonly (number | undefined)[];
}

const NAMES = ['brightness', 'contrast', 'saturation', 'hue'] as const;

/**
 * torchvision's ColorJitter: each image's brightness, contrast, saturation and hue changed by
 * factors drawn uniformly from their ranges, in an order drawn anew for each image, all from (seed,
 * epoch, row). Pixels in [0, 1], so put it before `normalize`; `jitterImage` is the pixel kernel.
 */
export function colorJitter(options: ColorJitterOptions): ImageTransform {
  checkSeed('colorJitter', options.seed);
  const ranges = NAMES.map((name) => jitterRange(name, options[name]));
  return mapImages((batch) => {
    const size = batch.shape[0] * batch.shape[1] * batch.shape[2];
    batch.rows.forEach((row, i) =>
      jitterImage(batch.pixels.subarray(i * size, (i + 1) * size), batch.shape, jitterDraw(ranges, options.seed, batch.epoch, row)),
    );
    return batch;
  });
}

/** The checked range of one factor, or undefined where it is not jittered. */
function jitterRange(name: (typeof NAMES)[number], range: JitterRange | undefined): readonly [number, number] | undefined {
  if (range === undefined) return undefined;
  const hue = name === 'hue';
  const [low, high] = typeof range === 'number' ? (hue ? [-range, range] : [Math.max(0, 1 - range), 1 + range]) : range;
  const [min, max] = hue ? [-0.5, 0.5] : [0, Infinity];
  if (typeof range === 'number' && !(range >= 0)) throw new RangeError(`colorJitter: ${name} must be ≥ 0, got ${range}`);
  if (!(low >= min && low <= high && high <= max))
    throw new RangeError(`colorJitter: ${name} must lie in [${min}, ${max}] with low ≤ high, got [${low}, ${high}]`);
  return [low, high];
}

/** The draw of `colorJitter` for `row` in `epoch`: a shuffled order, then each range's factor. */
export function jitterDraw(
  ranges: readonly (readonly [number, number] | undefined)[],
  seed: number,
  epoch: number,
  row: number,
): JitterDraw {
  const random = imageRandom(seed, epoch, row, AUGMENTATION_STREAMS.colorJitter);
  const order = [0, 1, 2, 3];
  for (let i = 3; i > 0; i--) {
    const j = random.nextInt(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return { order, factors: ranges.map((range) => range && range[0] + random.nextFloat() * (range[1] - range[0])) };
}

/** Applies a draw to one image (`[height, width, channels]`, pixels in [0, 1]) in place: the pixel kernel. */
export function jitterImage(image: Float32Array, shape: readonly [number, number, number], draw: JitterDraw): void {
  for (const which of draw.order) {
    const factor = draw.factors[which];
    if (factor === undefined) continue;
    if (which === 0) adjustBrightness(image, factor);
    else if (which === 1) adjustContrast(image, shape, factor);
    else if (which === 2) adjustSaturation(image, shape, factor);
    else adjustHue(image, shape, factor);
  }
}
