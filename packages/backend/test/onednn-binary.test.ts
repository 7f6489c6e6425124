import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { loadOneDnn, selectBackend } from '../src/node/index.js';

// Add, Sub, Multiply and RealDiv on oneDNN (onednn-binary.ts) against cpu, which they must equal
// bit for bit: the shapes a network and its optimizer ask for, those the addon leaves to the
// kernel it replaced (an operand broadcast first in Sub, both operands broadcast, a broadcast
// along alternate axes, int32, a small tensor), and nothing left over either way.
const native = await loadOneDnn();
if ('problem' in native && !process.env.CI) console.warn(`skipping oneDNN's binary operations: ${native.problem}`);
const run = 'dnnl' in native || Boolean(process.env.CI);

const OPS = { add: tf.add, sub: tf.sub, mul: tf.mul, div: tf.div } as const;
const CASES: ReadonlyArray<{ name: string; a: number[]; b: number[]; dtype?: 'int32' }> = [
  { name: 'the same shape (a residual sum)', a: [8, 32, 32, 48], b: [8, 32, 32, 48] },
  { name: 'a bias over channels', a: [8, 32, 32, 48], b: [48] },
  { name: 'a scalar (a learning rate)', a: [3, 3, 128, 256], b: [] },
  { name: 'the broadcast operand first', a: [1, 1, 96], b: [64, 48, 96] },
  { name: 'a column over rows', a: [32768, 10], b: [32768, 1] },
  { name: 'both operands broadcast', a: [600, 1], b: [1, 500] },
  { name: 'a broadcast along alternate axes', a: [6, 40, 40, 40], b: [6, 1, 40, 1] },
  { name: 'int32', a: [600, 500], b: [500], dtype: 'int32' },
  { name: 'a small tensor', a: [30, 30], b: [30] },
];

/** Values that make every operation's rounding matter, none 0 (a divisor); integers from 1 to 13 for int32. */
const values = (shape: number[], seed: number, dtype: string) => {
  let state = seed;
  return Float32Array.from({ length: tf.util.sizeFromShape(shape) }, (_, i) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return dtype === 'int32' ? 1 + (state % 13) : (state / 2 ** 32 + 1e-3) * 10 ** ((i % 7) - 3);
  });
};
/** Each case's operands, made once. */
const OPERANDS = CASES.map(({ a, b, dtype = 'float32' }) => [values(a, 1, dtype), values(b, 2, dtype)] as const);

async function results(backend: 'cpu' | 'onednn' | 'onednn-cpu') {
  await selectBackend(backend, { threads: 2 });
  const out: Record<string, Float32Array | Int32Array> = {};
  for (const [index, { name, a, b, dtype = 'float32' }] of CASES.entries())
    for (const [op, f] of Object.entries(OPS)) {
      const before = tf.memory().numTensors;
      // Read outside tidy, which would walk every element of an array it returns looking for tensors.
      const result = tf.tidy(() => f(tf.tensor(OPERANDS[index]![0], a, dtype), tf.tensor(OPERANDS[index]![1], b, dtype)));
      out[`${name} ${op}`] = result.dataSync() as Float32Array | Int32Array;
      result.dispose();
      expect(tf.memory().numTensors, `${name} ${op} leaves tensors on ${backend}`).toBe(before);
    }
  return out;
}

describe.runIf(run)("oneDNN's binary operations", () => {
  let reference: Promise<Record<string, Float32Array | Int32Array>> | undefined;
  test.each(['onednn', 'onednn-cpu'] as const)('equal cpu bit for bit on %s, and leave nothing behind', async (backend) => {
    const expected = await (reference ??= results('cpu'));
    const actual = await results(backend);
    for (const [name, values] of Object.entries(expected)) {
      // Compared here rather than by toEqual, which takes seconds over arrays this long.
      const differs = values.length !== actual[name]!.length ? 0 : values.findIndex((value, i) => !Object.is(value, actual[name]![i]));
      expect(differs === -1 ? 'equal' : `element ${differs}: ${actual[name]![differs]}, cpu says ${values[differs]}`, name).toBe('equal');
    }
  });

  test('the addon refuses a broadcast it has no vectorised kernel for, writing nothing', () => {
    if (!('dnnl' in native)) throw new Error(native.problem);
    const y = new Float32Array(6 * 20 * 10 * 20).fill(7);
    const call = () =>
      native.dnnl.binary({
        op: 'add',
        shape: [6, 20, 10, 20],
        bShape: [6, 1, 10, 1],
        a: new Float32Array(y.length),
        b: new Float32Array(60),
        y,
      });
    expect(call).toThrow(expect.objectContaining({ code: 'RXVISION_DNNL_UNSUPPORTED' }));
    expect(y.every((value) => value === 7)).toBe(true);
    expect(() => native.dnnl.binary({ op: 'pow' as 'add', shape: [2], bShape: [2], a: y, b: y, y })).toThrow(
      'rxvision-dnnl: no binary operation named pow',
    );
    expect(() => native.dnnl.binary({ op: 'add', shape: [4], bShape: [2], a: y, b: y, y })).toThrow(
      "rxvision-dnnl: every axis is positive, and bShape's is shape's or 1",
    );
  });
});
