/**
 * A small, fast, seeded PRNG (xoshiro128**) whose sequence is the same on every platform,
 * unlike `Math.random`. Its whole state is four uint32 words, so it can be saved and restored.
 */
export interface Random {
  /** Next value, uniform in [0, 2^32). */
  nextUint32(): number;
  /** Next value, uniform in [0, 1). */
  nextFloat(): number;
  /** Uniform integer in [0, bound), without modulo bias. */
  nextInt(bound: number): number;
  /** A copy of the state; `createRandomFromState(state)` continues the same sequence. */
  state(): RandomState;
}

export type RandomState = readonly [number, number, number, number];

/** Seeds the generator with splitmix32, as the xoshiro authors recommend, so nearby seeds diverge. */
export function createRandom(seed: number): Random {
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  let x = seed >>> 0;
  const words = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    words[i] = (z ^ (z >>> 16)) >>> 0;
  }
  return fromWords(words);
}

export function createRandomFromState(state: RandomState): Random {
  if (state.length !== 4 || state.every((word) => word === 0)) {
    throw new RangeError('a random state is four uint32 words, not all zero');
  }
  return fromWords(Uint32Array.from(state));
}

function fromWords(s: Uint32Array): Random {
  const nextUint32 = (): number => {
    const s0 = s[0]!;
    const s1 = s[1]!;
    const s2 = s[2]! ^ s0;
    const s3 = s[3]! ^ s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    s[0] = s0 ^ s3;
    s[1] = s1 ^ s2;
    s[2] = s2 ^ (s1 << 9);
    s[3] = rotl(s3, 11);
    return result;
  };
  return {
    nextUint32,
    nextFloat: () => nextUint32() / 0x1_0000_0000,
    nextInt(bound) {
      if (!Number.isInteger(bound) || bound < 1 || bound > 0x1_0000_0000) {
        throw new RangeError(`bound must be an integer in [1, 2^32], got ${bound}`);
      }
      // Rejection sampling: drop the top sliver of the range that would favour small values.
      const limit = 0x1_0000_0000 - (0x1_0000_0000 % bound);
      for (;;) {
        const value = nextUint32();
        if (value < limit) return value % bound;
      }
    },
    state: () => [s[0]!, s[1]!, s[2]!, s[3]!],
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
export function permutation(n: number, random: Random): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  shuffleInPlace(order, random);
  return order;
}

export function shuffleInPlace(values: Uint32Array, random: Random): Uint32Array {
  for (let i = values.length - 1; i > 0; i--) {
    const j = random.nextInt(i + 1);
    const swap = values[i]!;
    values[i] = values[j]!;
    values[j] = swap;
  }
  return values;
}
