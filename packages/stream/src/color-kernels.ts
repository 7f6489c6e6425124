// torchvision's colour adjustments (transforms/functional_tensor.py, 0.14) on one image: pixels in
// [0, 1], `[height, width, channels]`, read and written in place. Plain functions: ColorJitter's
// draw is colorJitter's; these only compute.

export type Shape = readonly [height: number, width: number, channels: number];

/** ITU-R 601-2 luma, as torchvision's rgb_to_grayscale. */
const luma = (r: number, g: number, b: number) =>
  Math.fround(Math.fround(Math.fround(0.2989 * r) + Math.fround(0.587 * g)) + Math.fround(0.114 * b));

/** ratio·image + (1 − ratio)·other, clamped to [0, 1]: torchvision's _blend. */
export const blend = (value: number, other: number, ratio: number) => Math.min(1, Math.max(0, ratio * value + (1 - ratio) * other));

export function adjustBrightness(image: Float32Array, factor: number): void {
  for (let i = 0; i < image.length; i++) image[i] = blend(image[i]!, 0, factor);
}

/** Blended with the mean of the image's grayscale (of the image itself for one channel). */
export function adjustContrast(image: Float32Array, [height, width, channels]: Shape, factor: number): void {
  const pixels = height * width;
  let sum = 0;
  for (let p = 0; p < pixels; p++) sum += channels === 3 ? luma(image[3 * p]!, image[3 * p + 1]!, image[3 * p + 2]!) : image[p * channels]!;
  const mean = Math.fround(sum / pixels);
  for (let i = 0; i < image.length; i++) image[i] = blend(image[i]!, mean, factor);
}

/** Blended with each pixel's grayscale; nothing for one channel, as PIL. */
export function adjustSaturation(image: Float32Array, [height, width, channels]: Shape, factor: number): void {
  if (channels !== 3) return;
  for (let p = 0; p < height * width; p++) {
    const gray = luma(image[3 * p]!, image[3 * p + 1]!, image[3 * p + 2]!);
    for (let c = 0; c < 3; c++) image[3 * p + c] = blend(image[3 * p + c]!, gray, factor);
  }
}

/** The hue turned by `factor` of a full turn (in [−0.5, 0.5]) through HSV; nothing for one channel. */
export function adjustHue(image: Float32Array, [height, width, channels]: Shape, factor: number): void {
  if (channels !== 3) return;
  for (let p = 0; p < height * width; p++) {
    const [h, s, v] = rgbToHsv(image[3 * p]!, image[3 * p + 1]!, image[3 * p + 2]!);
    const [r, g, b] = hsvToRgb(Math.fround((((h + factor) % 1) + 1) % 1), s, v);
    [image[3 * p], image[3 * p + 1], image[3 * p + 2]] = [r, g, b];
  }
}

/** torchvision's _rgb2hsv (after Pillow's), in float32 steps. */
function rgbToHsv(r: number, g: number, b: number): [number, number, number] {
  const f = Math.fround;
  const [max, min] = [Math.max(r, g, b), Math.min(r, g, b)];
  const range = f(max - min);
  const equal = max === min;
  const s = f(range / (equal ? 1 : max));
  const divisor = equal ? 1 : range;
  const [rc, gc, bc] = [f(f(max - r) / divisor), f(f(max - g) / divisor), f(f(max - b) / divisor)];
  const h = max === r ? f(bc - gc) : max === g ? f(f(2 + rc) - bc) : f(f(4 + gc) - rc);
  return [f(f(f(h / 6) + 1) % 1), s, max];
}

/** torchvision's _hsv2rgb. */
function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const f = Math.fround;
  const clamp = (x: number) => Math.min(1, Math.max(0, x));
  const sector = Math.floor(f(h * 6));
  const fraction = f(f(h * 6) - sector);
  const p = clamp(f(v * f(1 - s)));
  const q = clamp(f(v * f(1 - f(s * fraction))));
  const t = clamp(f(v * f(1 - f(s * f(1 - fraction)))));
  const rgb: [number, number, number][] = [
    [v, t, p],
    [q, v, p],
    [p, v, t],
    [p, q, v],
    [t, p, v],
    [v, p, q],
  ];
  return rgb[((sector % 6) + 6) % 6]!;
}
