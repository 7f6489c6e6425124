import { readFileSync } from 'node:fs';
import { concatMap, lastValueFrom, of, toArray } from 'rxjs';
import { describe, expect, test } from 'vitest';
import {
  AUGMENT_OPS,
  type AugmentOp,
  type AugmentSpace,
  applyAugmentOp,
  randAugment,
  randAugmentDraws,
  randAugmentSpace,
  trivialAugment,
  trivialAugmentDraw,
  trivialAugmentSpace,
} from '../src/index.js';

// torchvision 0.14's TrivialAugmentWide and RandAugment operations (_apply_op, nearest) at fixed
// magnitudes on CIFAR-10 images, and their tables of magnitudes, written by
// tools/torch-reference/augment_ops.py.
interface Image {
  shape: [number, number, number];
  pixels: string;
}
const reference = JSON.parse(readFileSync(new URL('./fixtures/torchvision-augment-ops.json', import.meta.url), 'utf8')) as {
  images: Image[];
  spaces: Record<string, { magnitudes: Record<string, number[]>; signed: Record<string, boolean> }>;
  cases: { image: number; op: string; magnitude: number; output: string }[];
};
const floats = (base64: string) => {
  const bytes = Buffer.from(base64, 'base64');
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4).slice();
};
// torchvision's names (ShearX, AutoContrast) to ours (shearX, autocontrast).
const ours = (name: string) => AUGMENT_OPS.find((op) => op.toLowerCase() === name.toLowerCase())!;

/** Each operation's magnitudes and sign as torchvision's `name` space has them, within torch.linspace's last bit. */
function expectSpace(space: AugmentSpace, name: string) {
  const reference_ = reference.spaces[name]!;
  expect(Object.keys(reference_.magnitudes).map(ours)).toEqual(AUGMENT_OPS);
  for (const [op, magnitudes] of Object.entries(reference_.magnitudes)) {
    // torch.linspace's float32 rounding differs from ours in the last bit for some bins.
    const worst = Math.max(...magnitudes.map((m, i) => Math.abs(m - space[ours(op)].magnitudes[i]!) / Math.max(1, m)));
    expect(space[ours(op)].magnitudes, op).toHaveLength(magnitudes.length);
    expect(worst, op).toBeLessThan(2e-7);
    expect(space[ours(op)].signed, op).toBe(reference_.signed[op]);
  }
}

describe("the operations' kernel", () => {
  test.each(reference.cases.map((c) => [`${c.op} ${c.magnitude} on image ${c.image}`, c] as const))(
    "gives torchvision's pixels: %s",
    (_, { image, op, magnitude, output }) => {
      const { shape, pixels } = reference.images[image]!;
      const augmented = floats(pixels);
      applyAugmentOp(augmented, shape, { op: ours(op), magnitude }, 0, new Float32Array(augmented.length));
      const expected = floats(output);
      // Geometry, posterize, solarize, equalize and autocontrast only move or map values: exactly.
      // The blends differ from torch's float32 arithmetic in the last bits.
      const worst = Math.max(...augmented.map((v, i) => Math.abs(v - expected[i]!)));
      expect(worst).toBeLessThanOrEqual(['Brightness', 'Color', 'Contrast', 'Sharpness'].includes(op) ? 2e-6 : 0);
    },
  );
});

describe('TrivialAugment', () => {
  test("has torchvision's fourteen operations, magnitudes and signs", () => expectSpace(trivialAugmentSpace(31), 'trivialAugment'));

  test('draws every operation, bin and sign about equally, the same for a row and epoch, others for others', () => {
    const space = trivialAugmentSpace(31);
    const counts = new Map<AugmentOp, number>();
    const rotations = new Set<number>();
    const rows = 14_000;
    for (let row = 0; row < rows; row++) {
      const { op, magnitude } = trivialAugmentDraw(space, 5, 0, row);
      counts.set(op, (counts.get(op) ?? 0) + 1);
      if (op === 'rotate') rotations.add(magnitude);
      expect(space[op].magnitudes).toContain(Math.abs(magnitude));
    }
    for (const op of AUGMENT_OPS) expect(Math.abs(counts.get(op)! - rows / 14), op).toBeLessThan(120); // ~4 σ
    expect(rotations.size).toBe(61); // 31 bins, both signs, one zero
    expect(trivialAugmentDraw(space, 5, 0, 7)).toEqual(trivialAugmentDraw(space, 5, 0, 7));
    const epochs = Array.from({ length: 20 }, (_, epoch) => JSON.stringify(trivialAugmentDraw(space, 5, epoch, 7)));
    expect(new Set(epochs).size).toBeGreaterThan(10);
  });

  test('refuses bins it cannot draw from, in one line', () => {
    expect(() => trivialAugment({ bins: 1, seed: 1 })).toThrow(/^trivialAugment: bins must be an integer ≥ 2, got 1$/);
    expect(() => trivialAugment({ bins: 2.5, seed: 1 })).toThrow(/^trivialAugment: bins must be an integer ≥ 2, got 2.5$/);
  });
});

describe('RandAugment', () => {
  test("has torchvision's magnitudes and signs for the image's size", () => {
    expectSpace(randAugmentSpace(31, [32, 32]), 'randAugment 32x32');
    expectSpace(randAugmentSpace(11, [9, 14]), 'randAugment 9x14, 11 bins');
  });

  test('draws its operations uniformly at the one magnitude, the same for a row and epoch', () => {
    const space = randAugmentSpace(31, [32, 32]);
    const counts = new Map<AugmentOp, number>();
    const rows = 7000;
    for (let row = 0; row < rows; row++) {
      const draws = randAugmentDraws(space, { ops: 2, magnitude: 9 }, 5, 0, row);
      expect(draws).toHaveLength(2);
      for (const { op, magnitude } of draws) {
        counts.set(op, (counts.get(op) ?? 0) + 1);
        const { magnitudes } = space[op];
        expect(Math.abs(magnitude)).toBe(magnitudes.length > 1 ? magnitudes[9] : 0);
      }
    }
    for (const op of AUGMENT_OPS) expect(Math.abs(counts.get(op)! - (2 * rows) / 14), op).toBeLessThan(120);
    expect(randAugmentDraws(space, { ops: 3, magnitude: 4 }, 5, 2, 7)).toEqual(randAugmentDraws(space, { ops: 3, magnitude: 4 }, 5, 2, 7));
  });

  test('applies its draws in order: two images of a batch as the kernel makes them', async () => {
    const { shape, pixels } = reference.images[0]!;
    const image = floats(pixels);
    const batch = {
      rows: Uint32Array.of(3, 8),
      labels: Uint32Array.of(0, 1),
      pixels: new Float32Array(2 * image.length),
      shape,
      epoch: 4,
      index: 0,
    };
    batch.pixels.set(image, 0);
    batch.pixels.set(image, image.length);
    const [augmented] = await lastValueFrom(
      of(of(batch)).pipe(
        randAugment({ ops: 3, magnitude: 20, fill: 0.5, seed: 11 }),
        concatMap((pending) => pending),
        toArray(),
      ),
    );
    const space = randAugmentSpace(31, shape);
    [3, 8].forEach((row, i) => {
      const expected = image.slice();
      for (const draw of randAugmentDraws(space, { ops: 3, magnitude: 20 }, 11, 4, row))
        applyAugmentOp(expected, shape, draw, 0.5, new Float32Array(image.length));
      expect(Array.from(augmented!.pixels.subarray(i * image.length, (i + 1) * image.length))).toEqual(Array.from(expected));
    });
  });

  test('refuses settings it cannot draw from, in one line', () => {
    expect(() => randAugment({ magnitude: 31, seed: 1 })).toThrow(
      /^randAugment: magnitude must be a bin, an integer in \[0, 30\], got 31$/,
    );
    expect(() => randAugment({ ops: 0, seed: 1 })).toThrow(/^randAugment: ops must be an integer ≥ 1, got 0$/);
    expect(() => randAugment({ bins: 1, seed: 1 })).toThrow(/^randAugment: bins must be an integer ≥ 2, got 1$/);
  });
});
