import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { colorJitter, jitterDraw, jitterImage, randomRotation, rotateImage } from '../src/index.js';

// torchvision 0.14's F.adjust_* in a drawn order and F.rotate (nearest, fill 0.25) on two CIFAR-10
// crops, written by tools/torch-reference/color_jitter_rotation.py: the kernels against them.
interface Image {
  shape: [number, number, number];
  pixels: string;
}
const reference = JSON.parse(readFileSync(new URL('./fixtures/torchvision-color-rotation.json', import.meta.url), 'utf8')) as {
  images: Image[];
  jitter: { image: number; order: number[]; factors: (number | null)[]; output: string }[];
  rotation: { image: number; degrees: number; fill: number; output: string }[];
};
const floats = (base64: string) => {
  const bytes = Buffer.from(base64, 'base64');
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4).slice();
};
const worst = (a: Float32Array, b: Float32Array) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

describe("colour jitter's kernel", () => {
  test.each(reference.jitter.map((c, i) => [i, c] as const))(
    "gives torchvision's pixels, case %i",
    (_, { image, order, factors, output }) => {
      const { shape, pixels } = reference.images[image]!;
      const jittered = floats(pixels);
      jitterImage(jittered, shape, { order, factors: factors.map((f) => f ?? undefined) });
      expect(worst(jittered, floats(output))).toBeLessThan(2e-6);
    },
  );

  test('draws each order and factors within their ranges, the same for a row and epoch, others for others', () => {
    const ranges = [[0.6, 1.4], undefined, [0, 2], [-0.1, 0.1]] as const;
    const orders = new Set<string>();
    for (let row = 0; row < 2000; row++) {
      const draw = jitterDraw(ranges, 5, 0, row);
      orders.add(draw.order.join());
      expect([...draw.order].sort()).toEqual([0, 1, 2, 3]);
      expect(draw.factors[0]).toBeGreaterThanOrEqual(0.6);
      expect(draw.factors[0]).toBeLessThan(1.4);
      expect(draw.factors[1]).toBeUndefined();
      expect(Math.abs(draw.factors[3]!)).toBeLessThanOrEqual(0.1);
    }
    expect(orders.size).toBe(24); // every order of four
    expect(jitterDraw(ranges, 5, 0, 7)).toEqual(jitterDraw(ranges, 5, 0, 7));
    expect(jitterDraw(ranges, 5, 1, 7)).not.toEqual(jitterDraw(ranges, 5, 0, 7));
  });

  test('refuses a range it cannot draw from, in one line', () => {
    expect(() => colorJitter({ brightness: -1, seed: 1 })).toThrow(/^colorJitter: brightness must be ≥ 0, got -1$/);
    expect(() => colorJitter({ hue: 0.7, seed: 1 })).toThrow(
      /^colorJitter: hue must lie in \[-0.5, 0.5\] with low ≤ high, got \[-0.7, 0.7\]$/,
    );
    expect(() => colorJitter({ contrast: [1.5, 1.2], seed: 1 })).toThrow(
      /^colorJitter: contrast must lie in \[0, Infinity\] with low ≤ high/,
    );
  });
});

describe("rotation's kernel", () => {
  test.each(reference.rotation.map((c, i) => [i, c] as const))(
    "gives torchvision's pixels, case %i",
    (_, { image, degrees, fill, output }) => {
      const { shape, pixels } = reference.images[image]!;
      const turned = new Float32Array(shape[0] * shape[1] * shape[2]);
      rotateImage(floats(pixels), shape, degrees, fill, turned);
      expect(Array.from(turned)).toEqual(Array.from(floats(output)));
    },
  );

  test('refuses degrees it cannot draw from, in one line', () => {
    expect(() => randomRotation({ degrees: -3, seed: 1 })).toThrow(/^randomRotation: degrees must be ≥ 0, got -3$/);
    expect(() => randomRotation({ degrees: [10, -10], seed: 1 })).toThrow(
      /^randomRotation: degrees must be \[low, high\] with low ≤ high, got \[10, -10\]$/,
    );
  });
});
