import { affineImage, inverseAffineMatrix } from './affine-image.js';
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

/** `image` (`[height, width, channels]`) turned `degrees` anticlockwise about its centre into `out`, as F.rotate. */
export function rotateImage(
  image: Float32Array,
  shape: readonly [number, number, number],
  degrees: number,
  fill: number,
  out: Float32Array,
): void {
  affineImage(image, shape, inverseAffineMatrix(shape, { angle: -degrees }), fill, out);
}
