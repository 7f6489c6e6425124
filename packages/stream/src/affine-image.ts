// torchvision's affine warp of a tensor image (functional.affine and rotate, 0.14): the inverse
// matrix in double as _get_inverse_affine_matrix, then its grid and grid_sample in float32, nearest.

type Shape = readonly [height: number, width: number, channels: number];

/** What `affineImage` does to an image, in torchvision's terms. */
export interface AffineWarp {
  /** Degrees, clockwise as F.affine's `angle` (F.rotate's anticlockwise angle negated). */
  readonly angle?: number;
  /** Pixels, right and down. */
  readonly translate?: readonly [number, number];
  /** Degrees along x and y. */
  readonly shear?: readonly [number, number];
  /** About the top-left corner rather than the centre (TrivialAugment's shears). */
  readonly aboutCorner?: boolean;
}

/**
 * The matrix from an output pixel (about the centre) back to its source, `[a, b, c, d, e, f]` for
 * x' = a·x + b·y + c, y' = d·x + e·y + f: torchvision's _get_inverse_affine_matrix, scale 1.
 */
export function inverseAffineMatrix([height, width]: Shape, warp: AffineWarp): number[] {
  const radians = (degrees: number) => (degrees * Math.PI) / 180;
  const [rotation, sx, sy] = [radians(warp.angle ?? 0), radians(warp.shear?.[0] ?? 0), radians(warp.shear?.[1] ?? 0)];
  const [cx, cy] = warp.aboutCorner ? [-width * 0.5, -height * 0.5] : [0, 0];
  const [tx, ty] = warp.translate ?? [0, 0];
  const a = Math.cos(rotation - sy) / Math.cos(sy);
  const b = (-Math.cos(rotation - sy) * Math.tan(sx)) / Math.cos(sy) - Math.sin(rotation);
  const c = Math.sin(rotation - sy) / Math.cos(sy);
  const d = (-Math.sin(rotation - sy) * Math.tan(sx)) / Math.cos(sy) + Math.cos(rotation);
  // The inverse of rotation and shear, then of the centre's and the translation's shifts.
  const [dx, dy] = [-cx - tx, -cy - ty];
  return [d, -b, d * dx - b * dy + cx, -c, a, -c * dx + a * dy + cy];
}

/**
 * `image` (`[height, width, channels]`) warped into `out` as torchvision warps a tensor: each output
 * pixel's centre mapped back by `matrix` (`inverseAffineMatrix`) in float32, as its affine grid and
 * grid_sample (align_corners false), and the nearest source pixel taken (halves to even), `fill`
 * where it falls outside.
 */
export function affineImage(
  image: Float32Array,
  [height, width, channels]: Shape,
  matrix: readonly number[],
  fill: number,
  out: Float32Array,
): void {
  const f = Math.fround;
  // The matrix's columns over half the size, as _gen_affine_grid rescales it.
  const [xx, yx, bx] = [0, 1, 2].map((i) => f(f(matrix[i]!) / f(0.5 * width))) as [number, number, number];
  const [xy, yy, by] = [3, 4, 5].map((i) => f(f(matrix[i]!) / f(0.5 * height))) as [number, number, number];
  for (let row = 0; row < height; row++) {
    const y = f(-height * 0.5 + 0.5 + row);
    for (let column = 0; column < width; column++) {
      const x = f(-width * 0.5 + 0.5 + column);
      const gx = f(f(f(x * xx) + f(y * yx)) + bx);
      const gy = f(f(f(x * xy) + f(y * yy)) + by);
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
