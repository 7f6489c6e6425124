import { add, mirrorPad, mul, reverse, slice, type Tensor, type Tensor4D, tidy } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

/**
 * Test-time augmentation, as airbench evaluates (arXiv 2404.00498): `mirror` averages the logits of
 * each image and its mirror; `mirror-translate` gives that half the weight and the other half to
 * the same average over the image moved one pixel up-left and one pixel down-right (the border
 * reflected): six forward passes for one answer.
 */
export const TEST_TIME_AUGMENTATIONS = ['none', 'mirror', 'mirror-translate'] as const;
export type TestTimeAugmentation = (typeof TEST_TIME_AUGMENTATIONS)[number];

/**
 * The logits of `model` for images `xs` (`[n, height, width, channels]`) under `augmentation`.
 *
 * ```ts
 * const logits = augmentedLogits(model, batch.xs, 'mirror-translate');
 * ```
 */
export function augmentedLogits(model: LayersModel, xs: Tensor, augmentation: TestTimeAugmentation = 'none'): Tensor {
  if (!(TEST_TIME_AUGMENTATIONS as readonly string[]).includes(augmentation))
    throw new RangeError(`test-time augmentation must be one of ${TEST_TIME_AUGMENTATIONS.join(', ')}, got ${String(augmentation)}`);
  if (augmentation === 'none') return model.predict(xs) as Tensor;
  if (xs.rank !== 4)
    throw new RangeError(`test-time augmentation ${augmentation} needs images [n, height, width, channels], got rank ${xs.rank}`);
  return tidy(() => {
    const images = xs as Tensor4D;
    const mirrored = (x: Tensor4D) => mul(add(model.predict(x) as Tensor, model.predict(reverse(x, 2)) as Tensor), 0.5);
    const plain = mirrored(images);
    if (augmentation === 'mirror') return plain;
    const [n, height, width, channels] = images.shape;
    const padded = mirrorPad(
      images,
      [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ],
      'reflect',
    );
    const upLeft = slice(padded, [0, 0, 0, 0], [n, height, width, channels]);
    const downRight = slice(padded, [0, 2, 2, 0], [n, height, width, channels]);
    return add(mul(plain, 0.5), mul(add(mirrored(upLeft), mirrored(downRight)), 0.25));
  });
}
