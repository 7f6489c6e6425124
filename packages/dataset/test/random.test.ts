import { describe, expect, test } from 'vitest';
import { createRandom, createRandomFromState, permutation } from '../src/index.js';

describe('createRandom', () => {
  test('matches an independent xoshiro128** implementation (Python, splitmix32 seeding)', () => {
    const random = createRandom(43);
    expect(Array.from({ length: 5 }, () => random.nextUint32())).toEqual([3272705504, 3648998561, 4067977145, 2545216190, 1055425271]);
    const zero = createRandom(0);
    expect(Array.from({ length: 5 }, () => zero.nextUint32())).toEqual([3809008728, 1133695204, 53579671, 2891528803, 139681546]);
  });

  test('continues the same sequence from a saved state', () => {
    const random = createRandom(7);
    for (let i = 0; i < 10; i++) random.nextUint32();
    const resumed = createRandomFromState(random.state());
    expect(Array.from({ length: 20 }, () => resumed.nextUint32())).toEqual(Array.from({ length: 20 }, () => random.nextUint32()));
  });

  test('nextInt stays in range and covers it evenly', () => {
    const random = createRandom(1);
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[random.nextInt(6)]!++;
    for (const count of counts) expect(Math.abs(count - 10_000)).toBeLessThan(500);
    expect(() => random.nextInt(0)).toThrow(RangeError);
  });

  test('rejects seeds that are not integers and states that are all zero', () => {
    expect(() => createRandom(0.5)).toThrow(/integer/);
    expect(() => createRandomFromState([0, 0, 0, 0])).toThrow(/not all zero/);
  });
});

describe('permutation', () => {
  test('is a permutation, depends on the seed only', () => {
    const a = permutation(1000, createRandom(43));
    expect(Array.from(a).sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(permutation(1000, createRandom(43))).toEqual(a);
    expect(permutation(1000, createRandom(44))).not.toEqual(a);
  });
});
