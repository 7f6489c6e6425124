import { blend, type Shape } from './color-kernels.js';

// torchvision's sharpness, posterize, solarize, autocontrast and equalize (functional_tensor.py,
// 0.14) on one image: pixels in [0, 1], `[height, width, channels]`, in place. Posterize and
// equalize work on 8-bit values as torchvision's (uint8 only there): each pixel's round(255·x).

const toByte = (value: number) => Math.min(255, Math.max(0, Math.round(value * 255)));

/** Blended with the image smoothed by [[1, 1, 1], [1, 5, 1], [1, 1, 1]] / 13, its border kept. */
export function adjustSharpness(image: Float32Array, [height, width, channels]: Shape, factor: number): void {
  if (height <= 2 || width <= 2) return;
  const source = image.slice();
  const at = (row: number, column: number, c: number) => source[(row * width + column) * channels + c]!;
  for (let row = 1; row < height - 1; row++)
    for (let column = 1; column < width - 1; column++)
      for (let c = 0; c < channels; c++) {
        let sum = 4 * at(row, column, c);
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) sum += at(row + dy, column + dx, c);
        const i = (row * width + column) * channels + c;
        image[i] = blend(source[i]!, Math.fround(sum / 13), factor);
      }
}

/** Keeps the top `bits` of each 8-bit value. */
export function posterize(image: Float32Array, bits: number): void {
  const mask = -(2 ** (8 - bits)) & 255;
  for (let i = 0; i < image.length; i++) image[i] = (toByte(image[i]!) & mask) / 255;
}

/** Inverts each value at or above `threshold` (in [0, 1]). */
export function solarize(image: Float32Array, threshold: number): void {
  for (let i = 0; i < image.length; i++) if (image[i]! >= threshold) image[i] = 1 - image[i]!;
}

/** Stretches each channel to [0, 1]; a flat channel is left as it is. */
export function autocontrast(image: Float32Array, [height, width, channels]: Shape): void {
  for (let c = 0; c < channels; c++) {
    let [low, high] = [Infinity, -Infinity];
    for (let i = c; i < height * width * channels; i += channels) [low, high] = [Math.min(low, image[i]!), Math.max(high, image[i]!)];
    const scale = Math.fround(1 / Math.fround(high - low));
    if (!Number.isFinite(scale)) continue;
    for (let i = c; i < image.length; i += channels) image[i] = Math.min(1, Math.max(0, Math.fround(image[i]! - low) * scale));
  }
}

/** Each channel's histogram of 8-bit values spread evenly, as torchvision's (after PIL's) equalize. */
export function equalize(image: Float32Array, [height, width, channels]: Shape): void {
  const pixels = height * width;
  for (let c = 0; c < channels; c++) {
    const histogram = new Uint32Array(256);
    for (let p = 0; p < pixels; p++) histogram[toByte(image[p * channels + c]!)]!++;
    // The counts of every value present but the last, over 255: the width of one output step.
    const present = [...histogram].filter((count) => count > 0);
    const step = Math.floor((pixels - present.at(-1)!) / 255);
    if (step === 0) continue;
    const lookup = new Uint8Array(256);
    let cumulative = 0;
    for (let value = 0; value < 255; value++) {
      cumulative += histogram[value]!;
      lookup[value + 1] = Math.min(255, Math.floor((cumulative + Math.floor(step / 2)) / step));
    }
    for (let p = 0; p < pixels; p++) image[p * channels + c] = lookup[toByte(image[p * channels + c]!)]! / 255;
  }
}
