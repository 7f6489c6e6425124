import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';

// The package alone: its loader, and its addon against plain loops. CI builds the addon (.ci/run
// installs libdnnl-dev), so there a missing one fails; elsewhere the build's reason is printed.
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = existsSync(join(root, 'dnnl.node'));
if (!built && !process.env.CI) console.warn(`skipping the addon's tests: ${readFileSync(join(root, 'build-status.txt'), 'utf8').trim()}`);

const copies: string[] = [];
afterAll(() => copies.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('loadDnnl where this copy has no addon', () => {
  test("throws the build's reason in one line", async () => {
    const copy = mkdtempSync(join(tmpdir(), 'rxvision-dnnl-'));
    copies.push(copy);
    cpSync(join(root, 'index.js'), join(copy, 'index.js'));
    writeFileSync(join(copy, 'package.json'), '{"type": "module"}');
    writeFileSync(join(copy, 'build-status.txt'), 'no oneDNN headers under /usr/include (apt-get install libdnnl-dev)\n');
    const { loadDnnl } = (await import(pathToFileURL(join(copy, 'index.js')).href)) as typeof import('../index.js');
    expect(() => loadDnnl()).toThrow(
      /^@rxvision\/dnnl-linux-x64 has no addon: no oneDNN headers under \/usr\/include \(apt-get install libdnnl-dev\)$/,
    );
  });
});

describe.runIf(built || process.env.CI)('the addon', async () => {
  const { loadDnnl } = await import('../index.js');
  const dnnl = loadDnnl();
  dnnl.setThreads(2);
  const values = (count: number, seed: number) => Float32Array.from({ length: count }, (_, i) => Math.sin(seed * 1000 + i));

  test("names oneDNN's version", () => {
    expect(dnnl.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  test("batch norm's training step gives the same bits on every run, for channels oneDNN vectorises and for the others", () => {
    for (const channels of [24, 32]) {
      const rows = 4099;
      const x = values(rows * channels, 1).map((v) => v * 3 + 1);
      const scale = values(channels, 2);
      const run = () => {
        const [y, mean, variance, dx, dscale, doffset] = [rows * channels, channels, channels, rows * channels, channels, channels].map(
          (n) => new Float32Array(n),
        ) as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
        const shape = { rows, channels, epsilon: 1e-5 };
        dnnl.batchNormTraining({ shape, x, scale, offset: values(channels, 3), y, mean, variance });
        dnnl.batchNormTrainingGrad({ shape, x, dy: values(rows * channels, 4), scale, mean, variance, dx, dscale, doffset });
        return [y, mean, variance, dx, dscale, doffset].map((array) => Buffer.from(array.buffer).toString('base64'));
      };
      expect(run()).toEqual(run());
    }
  });

  test('a strided, padded convolution with bias and ReLU equals the loop over its definition', () => {
    // 2 images of 5×6×3, 4 filters of 3×3, stride 2, padding 1 on every side: out 3×3.
    const [n, h, w, ci, co, k, s, pad] = [2, 5, 6, 3, 4, 3, 2, 1];
    const [ho, wo] = [Math.floor((h + 2 * pad - k) / s) + 1, Math.floor((w + 2 * pad - k) / s) + 1];
    const x = values(n * h * w * ci, 1);
    const filter = values(k * k * ci * co, 2);
    const bias = values(co, 3);
    const y = new Float32Array(n * ho * wo * co);
    const geometry = {
      ...{ batch: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co, filterHeight: k, filterWidth: k },
      ...{ strideHeight: s, strideWidth: s, dilationHeight: 1, dilationWidth: 1, outHeight: ho, outWidth: wo },
      ...{ padTop: pad, padBottom: pad, padLeft: pad, padRight: pad },
    };
    dnnl.conv2d({ geometry, x, filter, bias, y, relu: true });
    for (let b = 0; b < n; b++)
      for (let oh = 0; oh < ho; oh++)
        for (let ow = 0; ow < wo; ow++)
          for (let o = 0; o < co; o++) {
            let sum = bias[o]!;
            for (let i = 0; i < k; i++)
              for (let j = 0; j < k; j++)
                for (let c = 0; c < ci; c++) {
                  const [ih, iw] = [oh * s - pad + i, ow * s - pad + j];
                  if (ih >= 0 && ih < h && iw >= 0 && iw < w)
                    sum += x[((b * h + ih) * w + iw) * ci + c]! * filter[((i * k + j) * ci + c) * co + o]!;
                }
            expect(y[((b * ho + oh) * wo + ow) * co + o]).toBeCloseTo(Math.max(0, sum), 4);
          }
  });

  test('a product with A transposed equals the loop, in shared memory too', () => {
    const [m, k, n] = [5, 7, 3];
    const heap = new Float32Array(new SharedArrayBuffer(4 * (m * k + k * n + m * n)));
    const aT = heap.subarray(0, k * m); // k×m: a transposed
    aT.set(values(k * m, 4));
    const b = heap.subarray(k * m, k * m + k * n);
    b.set(values(k * n, 5));
    const y = heap.subarray(k * m + k * n);
    dnnl.matMul({ shape: { m, k, n, transposeA: true, transposeB: false }, a: aT, b, bias: null, y, relu: false });
    for (let r = 0; r < m; r++)
      for (let c = 0; c < n; c++) {
        let sum = 0;
        for (let i = 0; i < k; i++) sum += aT[i * m + r]! * b[i * n + c]!;
        expect(y[r * n + c]).toBeCloseTo(sum, 5);
      }
  });

  // 1 + 2^-10 is not a bfloat16 (7 stored bits): rounded to 1, the bf16 product of [1 + 2^-10] and [1] is 1.
  const BF16_PRODUCT = `(() => {
    const y = Float32Array.of(-3);
    const shape = { m: 1, k: 1, n: 1, transposeA: false, transposeB: false };
    const product = (bf16) => dnnl.matMul({ shape, a: Float32Array.of(1 + 2 ** -10), b: Float32Array.of(1), bias: null, y, relu: false, bf16 });
    product(false);
    const float32 = y[0];
    y[0] = -3;
    let refusal;
    try { product(true); } catch (error) { refusal = error.message; }
    return { bf16: dnnl.bf16, float32, bfloat16: y[0], refusal };
  })()`;
  const bf16Product = (env: NodeJS.ProcessEnv = {}) =>
    JSON.parse(
      execFileSync(
        process.execPath,
        ['-e', `const dnnl = require(${JSON.stringify(join(root, 'dnnl.node'))}); process.stdout.write(JSON.stringify(${BF16_PRODUCT}))`],
        {
          encoding: 'utf8',
          env: { ...process.env, ...env },
        },
      ),
    ) as { bf16: boolean; float32: number; bfloat16: number; refusal?: string };

  test('bf16 where the CPU has AVX512-BF16 (as /proc/cpuinfo says): a product with bf16 reads bfloat16 operands', () => {
    const flags =
      readFileSync('/proc/cpuinfo', 'utf8')
        .match(/^flags\s*:(.*)$/m)?.[1]
        ?.split(' ') ?? [];
    const result = bf16Product();
    expect(result.bf16).toBe(flags.includes('avx512_bf16'));
    expect(result.float32).toBe(1 + 2 ** -10);
    if (result.bf16) expect([result.bfloat16, result.refusal]).toEqual([1, undefined]);
  });

  test("without AVX512-BF16 (oneDNN held to AVX2's kernels), a bf16 call is one line and writes nothing", () => {
    expect(bf16Product({ ONEDNN_MAX_CPU_ISA: 'AVX2' })).toEqual({
      bf16: false,
      float32: 1 + 2 ** -10,
      bfloat16: -3,
      refusal: 'rxvision-dnnl: bf16 needs a CPU with AVX512-BF16, which this one lacks',
    });
  });

  test('an activation it has not, or operands too short, is one line and nothing is written', () => {
    const [x, y] = [values(8, 6), new Float32Array(8).fill(3)];
    const call = (activation: string, elements: number) => () => dnnl.activation({ activation: activation as 'gelu', elements, x, y });
    expect(call('elu', 8)).toThrow(/^rxvision-dnnl: no activation named elu$/);
    expect(call('gelu', 9)).toThrow(/^rxvision-dnnl: activation\.x holds 8 floats, 9 needed$/);
    expect([...y]).toEqual(new Array(8).fill(3));
    call('gelu', 8)();
    expect(y[0]).toBeCloseTo(x[0]! * 0.5 * (1 + erf(x[0]! / Math.SQRT2)), 6);
  });
});

/** erf by Abramowitz and Stegun 7.1.26 (error below 1.5e-7). */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return Math.sign(x) * (1 - poly * Math.exp(-x * x));
}
