import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import {
  TRIVIAL_AUGMENT_OPS,
  type TrivialAugmentOp,
  trivialAugment,
  trivialAugmentDraw,
  trivialAugmentImage,
  trivialAugmentSpace,
} from '../src/index.js';

// torchvision 0.14's TrivialAugmentWide operations (_apply_op, nearest) at fixed magnitudes on two
// CIFAR-10 crops, and its table of magnitudes, written by tools/torch-reference/trivial_augment.py.
interface Image {
  shape: [number, number, number];
  pixels: string;
}
const reference = JSON.parse(readFileSync(new URL('./fixtures/torchvision-trivial-augment.json', import.meta.url), 'utf8')) as {
  images: Image[];
  space: { magnitudes: Record<string, number[]>; signed: Record<string, boolean> };
  cases: { image: number; op: string; magnitude: number; output: string }[];
};
const floats = (base64: string) => {
  const bytes = Buffer.from(base64, 'base64');
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4).slice();
};
// torchvision's names (ShearX, AutoContrast) to ours (shearX, autocontrast).
const ours = (name: string) => TRIVIAL_AUGMENT_OPS.find((op) => op.toLowerCase() === name.toLowerCase())!;

describe("TrivialAugment's kernel", () => {
  test.each(reference.cases.map((c) => [`${c.op} ${c.magnitude} on image ${c.image}`, c] as const))(
    "gives torchvision's pixels: %s",
    (_, { image, op, magnitude, output }) => {
      const { shape, pixels } = reference.images[image]!;
      const augmented = floats(pixels);
      trivialAugmentImage(augmented, shape, { op: ours(op), magnitude }, 0, new Float32Array(augmented.length));
      const expected = floats(output);
      // Geometry, posterize, solarize, equalize and autocontrast only move or map values: exactly.
      // The blends differ from torch's float32 arithmetic in the last bits.
      const worst = Math.max(...augmented.map((v, i) => Math.abs(v - expected[i]!)));
      expect(worst).toBeLessThanOrEqual(['Brightness', 'Color', 'Contrast', 'Sharpness'].includes(op) ? 2e-6 : 0);
    },
  );

  test("has torchvision's fourteen operations, magnitudes and signs", () => {
    const space = trivialAugmentSpace(31);
    expect(Object.keys(reference.space.magnitudes).map(ours)).toEqual(TRIVIAL_AUGMENT_OPS);
    for (const [name, magnitudes] of Object.entries(reference.space.magnitudes)) {
      // torch.linspace's float32 rounding differs from ours in the last bit for some bins.
      const worst = Math.max(...magnitudes.map((m, i) => Math.abs(m - space[ours(name)].magnitudes[i]!) / Math.max(1, m)));
      expect(space[ours(name)].magnitudes, name).toHaveLength(magnitudes.length);
      expect(worst, name).toBeLessThan(2e-7);
      expect(space[ours(name)].signed, name).toBe(reference.space.signed[name]);
    }
  });

  test('draws every operation, bin and sign about equally, the same for a row and epoch, others for others', () => {
    const space = trivialAugmentSpace(31);
    const counts = new Map<TrivialAugmentOp, number>();
    const rotations = new Set<number>();
    const rows = 14_000;
    for (let row = 0; row < rows; row++) {
      const { op, magnitude } = trivialAugmentDraw(space, 5, 0, row);
      counts.set(op, (counts.get(op) ?? 0) + 1);
      if (op === 'rotate') rotations.add(magnitude);
      expect(space[op].magnitudes).toContain(Math.abs(magnitude));
    }
    for (const op of TRIVIAL_AUGMENT_OPS) expect(Math.abs(counts.get(op)! - rows / 14), op).toBeLessThan(120); // ~4 σ
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
