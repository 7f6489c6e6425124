import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, test } from 'vitest';
import { BackendError } from '../src/index.js';
import { computesInBfloat16, loadOneDnn, selectBackend } from '../src/node/index.js';

// bfloat16 mixed precision on oneDNN's backends: each convolution pass and product reads bfloat16
// copies of its operands and sums in float32, so it equals cpu's float32 pass over the operands
// rounded to bfloat16 (products of two bfloat16s are exact in float32); tensors stay float32.
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const native = await loadOneDnn();
if ('problem' in native && !process.env.CI) console.warn(`skipping the bfloat16 tests: ${native.problem}`);
const bf16 = 'dnnl' in native && native.dnnl.bf16;

/** `values` rounded to the nearest bfloat16, ties to even (oneDNN's float32-to-bf16 reorder). */
const toBfloat16 = (values: Float32Array) => {
  const bits = new Uint32Array(Float32Array.from(values).buffer);
  bits.forEach((word, i) => (bits[i] = (((word + 0x7fff + ((word >>> 16) & 1)) >>> 16) << 16) >>> 0));
  return new Float32Array(bits.buffer);
};
const uniform = (shape: number[], seed: number) =>
  tf.tidy(() => tf.randomUniform(shape, -1, 1, 'float32', seed).dataSync() as Float32Array);
/** The largest difference over the largest reference value. */
const relativeError = (actual: Float32Array, expected: Float32Array) => {
  const scale = Math.max(1, ...expected.map(Math.abs));
  return Math.max(...actual.map((value, i) => Math.abs(value - expected[i]!))) / scale;
};

/** A convolution's three passes and a product, on the current backend, from the same operands. */
function passes(round: (values: Float32Array) => Float32Array) {
  const [x, filter, dy] = [uniform([4, 9, 9, 64], 1), uniform([3, 3, 64, 80], 2), uniform([4, 5, 5, 80], 3)];
  const [a, b] = [uniform([33, 70], 4), uniform([70, 20], 5)];
  const attrs = { strides: [2, 2] as [number, number], pad: 'same' as const, dataFormat: 'NHWC' as const };
  return tf.tidy(() => ({
    forward: tf
      .conv2d(tf.tensor4d(round(x), [4, 9, 9, 64]), tf.tensor4d(round(filter), [3, 3, 64, 80]), 2, 'same')
      .dataSync() as Float32Array,
    backwardData: (
      tf.engine().runKernel(
        'Conv2DBackpropInput',
        { dy: tf.tensor4d(round(dy), [4, 5, 5, 80]), filter: tf.tensor4d(round(filter), [3, 3, 64, 80]) },
        {
          ...attrs,
          inputShape: [4, 9, 9, 64],
        },
      ) as tf.Tensor
    ).dataSync() as Float32Array,
    backwardFilter: (
      tf.engine().runKernel(
        'Conv2DBackpropFilter',
        { x: tf.tensor4d(round(x), [4, 9, 9, 64]), dy: tf.tensor4d(round(dy), [4, 5, 5, 80]) },
        {
          ...attrs,
          filterShape: [3, 3, 64, 80],
        },
      ) as tf.Tensor
    ).dataSync() as Float32Array,
    product: tf.matMul(tf.tensor2d(round(a), [33, 70]), tf.tensor2d(round(b), [70, 20])).dataSync() as Float32Array,
  }));
}
const unrounded = (values: Float32Array) => values;

const run = 'dnnl' in native || Boolean(process.env.CI);
const NO_BF16 = 'cannot compute in bfloat16: this CPU lacks AVX512-BF16; bfloat16 needs onednn or onednn-cpu on a CPU with AVX512-BF16';

describe.runIf(run)('bfloat16 on oneDNN', () => {
  test.each(['onednn', 'onednn-cpu'] as const)(
    '%s: with AVX512-BF16, every convolution pass and product equals cpu over bfloat16-rounded operands, and float32 again when asked; without, one line',
    async (backend) => {
      if (!bf16) {
        await expect(selectBackend(backend, { threads: 2, precision: 'bfloat16' })).rejects.toThrow(`${backend} ${NO_BF16}`);
        return;
      }
      const report = await selectBackend(backend, { threads: 2, precision: 'bfloat16' });
      expect(report).toMatchObject({ backend, precision: 'bfloat16' });
      expect(report.summary).toContain('convolutions and products in bfloat16 (float32 sums and weights)');
      expect(computesInBfloat16(backend)).toBe(true);
      const mixed = passes(unrounded);
      await tf.setBackend('cpu');
      const [rounded, float32] = [passes(toBfloat16), passes(unrounded)];
      for (const pass of ['forward', 'backwardData', 'backwardFilter', 'product'] as const) {
        expect(relativeError(mixed[pass], rounded[pass]), pass).toBeLessThan(1e-5);
        // bfloat16 keeps 8 bits: a float32 result this close would mean the operands were not rounded.
        expect(relativeError(mixed[pass], float32[pass]), pass).toBeGreaterThan(1e-4);
      }

      const again = await selectBackend(backend, { threads: 2 });
      expect(again.precision).toBe('float32');
      const plain = passes(unrounded);
      for (const pass of ['forward', 'backwardData', 'backwardFilter', 'product'] as const)
        expect(relativeError(plain[pass], float32[pass]), pass).toBeLessThan(1e-5);
    },
    60_000,
  );

  test('auto with bfloat16 passes over the backends that compute in float32 only, saying so', async () => {
    const selected = selectBackend('auto', { threads: 2, precision: 'bfloat16' });
    if (!bf16) return void (await expect(selected).rejects.toThrow(/^no tfjs backend could be loaded: .*AVX512-BF16/));
    const report = await selected;
    expect(report).toMatchObject({ backend: 'onednn', precision: 'bfloat16' });
    expect(report.skipped.map((skip) => skip.reason)).toContain('cannot compute in bfloat16: it computes in float32 only');
  });

  test("refused in one line where oneDNN has no AVX512-BF16 (held to AVX2's kernels, in a process of its own: the built package)", () => {
    const script = `import('@rxvision/backend/node').then(({ selectBackend }) => selectBackend('onednn', { precision: 'bfloat16' })).then(
      () => console.log('taken'), (error) => console.log(error.constructor.name + ': ' + error.message))`;
    const said = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, ONEDNN_MAX_CPU_ISA: 'AVX2' },
    });
    expect(said.trim()).toBe(`BackendError: onednn ${NO_BF16}`);
  });
});

describe('bfloat16 refused in one line', () => {
  test('by a backend that computes in float32 only, before it loads', async () => {
    const refusal = selectBackend('wasm', { precision: 'bfloat16' });
    await expect(refusal).rejects.toThrow(BackendError);
    await expect(refusal).rejects.toThrow(
      /^wasm cannot compute in bfloat16: it computes in float32 only; bfloat16 needs onednn or onednn-cpu on a CPU with AVX512-BF16$/,
    );
  });

  test('a precision that is neither', async () => {
    await expect(selectBackend('cpu', { precision: 'float16' as 'float32' })).rejects.toThrow(
      /^precision must be float32 or bfloat16, got "float16"$/,
    );
  });
});
