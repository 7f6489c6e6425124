/**
 * Patch whitening (airbench, arXiv 2404.00498): the first convolution's filters are the
 * eigenvectors of the covariance of the images' k×k patches, each divided by the square root of
 * its eigenvalue (plus `epsilon`), and their negatives: a fixed layer that decorrelates pixels.
 */
export interface WhiteningOptions {
  /** Patch side; default 2 (airbench's). */
  readonly kernelSize?: number;
  /** Added to each eigenvalue before its square root; default 5e-4 (airbench's). */
  readonly epsilon?: number;
}

/**
 * The whitening filters of `images` (float32 `[n, height, width, channels]`, as the model sees
 * them: normalised), as a tfjs convolution kernel `[k, k, channels, 2·k·k·channels]`: filter j
 * and j + k·k·channels are the j-th eigenvector (largest eigenvalue first), scaled, and its negative.
 *
 * ```ts
 * const kernel = whiteningKernel(pixels, [5000, 32, 32, 3]);
 * model.getLayer('whiten').setWeights([tf.tensor4d(kernel, [2, 2, 3, 24]), bias]);
 * ```
 */
export function whiteningKernel(
  images: Float32Array,
  shape: readonly [number, number, number, number],
  options: WhiteningOptions = {},
): Float32Array {
  const { kernelSize: k = 2, epsilon = 5e-4 } = options;
  const [n, height, width, channels] = shape;
  if (images.length !== n * height * width * channels)
    throw new RangeError(`whiteningKernel: ${images.length} values for images of shape [${shape.join(', ')}]`);
  if (!(Number.isInteger(k) && k >= 1 && k <= Math.min(height, width)))
    throw new RangeError(`whiteningKernel: kernelSize must be a whole number from 1 to the image side, got ${k}`);
  const d = k * k * channels;
  // The patches' second moments (not centred, as airbench's), summed in float64.
  const moments = new Float64Array(d * d);
  const patch = new Float64Array(d);
  let count = 0;
  for (let i = 0; i < n; i++) {
    for (let y = 0; y + k <= height; y++) {
      for (let x = 0; x + k <= width; x++) {
        for (let dy = 0, p = 0; dy < k; dy++)
          for (let dx = 0; dx < k; dx++)
            for (let c = 0; c < channels; c++) patch[p++] = images[((i * height + y + dy) * width + x + dx) * channels + c]!;
        for (let a = 0; a < d; a++) {
          const pa = patch[a]!;
          for (let b = a; b < d; b++) moments[a * d + b]! += pa * patch[b]!;
        }
        count++;
      }
    }
  }
  for (let a = 0; a < d; a++) for (let b = a; b < d; b++) moments[b * d + a] = moments[a * d + b]! /= count;
  const { values, vectors } = symmetricEigen(moments, d);
  const order = Array.from(values.keys()).sort((a, b) => values[b]! - values[a]!);
  const kernel = new Float32Array(d * 2 * d); // [k, k, channels, 2d]: the patch index p is (dy, dx, c)
  order.forEach((column, j) => {
    const scale = 1 / Math.sqrt(values[column]! + epsilon);
    for (let p = 0; p < d; p++) {
      const v = vectors[p * d + column]! * scale;
      kernel[p * 2 * d + j] = v;
      kernel[p * 2 * d + d + j] = -v;
    }
  });
  return kernel;
}

/**
 * Eigenvalues and eigenvectors (columns of `vectors`) of a symmetric d×d matrix, by cyclic Jacobi
 * rotations: exact to float64 for the small matrices here (12×12 for airbench's patches).
 */
export function symmetricEigen(matrix: Float64Array, d: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p * d + q]! ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * d + q]! - a[p * d + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < d; r++) {
          const arp = a[r * d + p]!;
          const arq = a[r * d + q]!;
          a[r * d + p] = c * arp - s * arq;
          a[r * d + q] = s * arp + c * arq;
        }
        for (let r = 0; r < d; r++) {
          const apr = a[p * d + r]!;
          const aqr = a[q * d + r]!;
          a[p * d + r] = c * apr - s * aqr;
          a[q * d + r] = s * apr + c * aqr;
        }
        for (let r = 0; r < d; r++) {
          const vrp = v[r * d + p]!;
          const vrq = v[r * d + q]!;
          v[r * d + p] = c * vrp - s * vrq;
          v[r * d + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: d }, (_, i) => a[i * d + i]!), vectors: v };
}
