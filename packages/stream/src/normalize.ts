import { type ImageTransform, mapImages } from './map-images.js';

export interface NormalizeOptions {
  /** Per channel, of pixels in [0, 1]: e.g. CIFAR-10's [0.4914, 0.4822, 0.4465]. */
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** (pixel − mean) / std per channel, in place; for every split, augmented or not. */
export function normalize(options: NormalizeOptions): ImageTransform {
  const { mean, std } = options;
  if (mean.length !== std.length || mean.length === 0)
    throw new RangeError(`normalize: mean and std need one value per channel, got ${mean.length} and ${std.length}`);
  if (std.some((s) => !(s > 0)) || mean.some((m) => !Number.isFinite(m)))
    throw new RangeError(`normalize: std must be positive and mean finite, got mean [${mean.join(', ')}], std [${std.join(', ')}]`);
  const scale = std.map((s) => 1 / s);
  return mapImages((batch) => {
    const channels = batch.shape[2];
    if (channels !== mean.length) throw new RangeError(`normalize: ${mean.length} channel values for images with ${channels} channels`);
    const { pixels } = batch;
    for (let p = 0; p < pixels.length; p++) {
      const c = p % channels;
      pixels[p] = (pixels[p]! - mean[c]!) * scale[c]!;
    }
    return batch;
  });
}
