import { AUGMENTATION_STREAMS, checkSeed, imageRandom } from './image-random.js';
import { type ImageTransform, mapImages } from './map-images.js';

export interface RandomRotationOptions {
  /** Degrees: `d` for [−d, d], or [low, high]. */
  readonly degrees: number | readonly [number, number];
  /** The value of pixels rotated in from outside the image; default 0. */
  readonly fill?: number;
  readonly seed: number;
}

/**
 * torchvision's RandomRotation (nearest neighbour, about the centre, the same size): each image
 * turned anticlockwise by an angle drawn uniformly from (seed, epoch, row). `rotateImage` is the
 * pixel kernel.
 */
export function randomRotation(options: RandomRotationOptions): ImageTransform {
  const { seed, fill = 0 } = options;
  checkSeed('randomRotation', seed);
  const [low, high] = typeof options.degrees === 'number' ? [-options.degrees, options.degrees] : options.degrees;
  if (typeof options.degrees === 'number' && !(options.degrees >= 0))
    throw new RangeError(`randomRotation: degrees must be ≥ 0, got ${options.degrees}`);
  if (!(Number.isFinite(low) && Number.isFinite(high) && low <= high))
    throw new RangeError(`randomRotation: degrees must be [low, high] with low ≤ high, got [${low}, ${high}]`);
  return mapImages((batch) => {
    const size = batch.shape[0] * batch.shape[1] * batch.shape[2];
    const turned = new Float32Array(size);
    batch.rows.forEach((row, i) => {
      const angle = low + imageRandom(seed, batch.epoch, row, AUGMENTATION_STREAMS.rotation).nextFloat() * (high - low);
      const image = batch.pixels.subarray(i * size, (i + 1) * size);
      rotateImage(image, batch.shape, angle, fill, turned);
      image.set(turned);
    });
    return batch;
  });
}

/**
 * `image` (`[height, width, channels]`) turned `degrees` anticlockwise about its centre into `out`,
 * as torchvision's rotate on a tensor: each output pixel's centre mapped back by the inverse
 * rotation, in float32 as its affine grid and grid_sample (align_corners false), and the nearest
 * source pixel taken (halves to even), `fill` where it falls outside.
 */
export function rotateImage(
  image: Float32Array,
  [height, width, channels]: readonly [number, number, number],
  degrees: number,
  fill: number,
  out: Float32Array,
): void {
  const f = Math.fround;
  const radians = (-degrees * Math.PI) / 180;
  // The inverse matrix [cos, sin; −sin, cos] over half the size, as _gen_affine_grid rescales it.
  const [cos, sin] = [Math.cos(radians), Math.sin(radians)];
  const [xx, xy, yx, yy] = [
    f(f(cos) / f(0.5 * width)),
    f(f(-sin) / f(0.5 * height)),
    f(f(sin) / f(0.5 * width)),
    f(f(cos) / f(0.5 * height)),
  ];
  for (let row = 0; row < height; row++) {
    const y = f(-height * 0.5 + 0.5 + row);
    for (let column = 0; column < width; column++) {
      const x = f(-width * 0.5 + 0.5 + column);
      const gx = f(f(x * xx) + f(y * yx));
      const gy = f(f(x * xy) + f(y * yy));
      // grid_sample's unnormalisation, align_corners false: ((g + 1)·size − 1) / 2.
      const sourceX = roundHalfEven(f(f(f(f(gx + 1) * width) - 1) / 2));
      const sourceY = roundHalfEven(f(f(f(f(gy + 1) * height) - 1) / 2));
      const inside = sourceX >= 0 && sourceX < width && sourceY >= 0 && sourceY < height;
      const to = (row * width + column) * channels;
      const from = (sourceY * width + sourceX) * channels;
      for (let c = 0; c < channels; c++) out[to + c] = inside ? image[from + c]! : fill;
    }
  }
}

/** nearbyint: to the nearest integer, halves to the even one. */
function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const difference = value - floor;
  if (difference !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}
