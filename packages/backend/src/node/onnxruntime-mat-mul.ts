import { getKernel, type KernelFunc } from '@tensorflow/tfjs-core';
import { patchKernel } from '../kernel-patches.js';
import type { OnnxGraph, OnnxNode } from '@rxvision/onnx';
import type { OnnxRuntime, OnnxSession } from './onnxruntime.js';
import { plainProduct } from '../plain-product.js';
import { heapOf, Staging, writeBack } from '../wasm-heap.js';

/** The kernels replaced: every matrix product tfjs and tfjs-layers compute goes through one of them. */
export const MAT_MUL_KERNELS = ['BatchMatMul', '_FusedMatMul'] as const;

/**
 * Replaces `backendName`'s BatchMatMul and _FusedMatMul (a wasm-heap backend, or cpu's arrays: `heapOf`) with onnxruntime's
 * MLAS: measured here at 100–160 GFLOP/s on one core for the tutorial MLP's products, against
 * about 20 for XNNPACK in wasm. Products it does not cover (batched, non-float, activations other
 * than ReLU) go to the kernel registered before.
 */
export function useOnnxRuntimeMatMul(backendName: string, runtime: OnnxRuntime, threads: number): void {
  const sessions = new MatMulSessions(runtime, threads);
  for (const name of MAT_MUL_KERNELS) {
    if (!getKernel(name, backendName)) continue;
    patchKernel(backendName, name, 'onnxruntime-mat-mul', (original) => matMulKernel(sessions, original!));
  }
}

function matMulKernel(sessions: MatMulSessions, fallback: KernelFunc): KernelFunc {
  const staging = new Staging();
  return (args) => {
    const product = plainProduct(args.inputs, args.attrs);
    if (!product) return fallback(args);
    const { a, b, bias, transposeA, transposeB, relu, aRows, aColumns, bRows, bColumns, m, n, outShape } = product;
    const heap = heapOf(args.backend);
    const out = heap.makeOutput(outShape, 'float32');
    // Views after makeOutput: growing the heap would detach views taken before it.
    const views = [a, b, ...(bias ? [bias] : []), out].map((info) => heap.typedArrayFromHeap(info));
    const { operands } = staging.place([], views, views.length - 1);
    const [aData, bData] = operands as [Float32Array, Float32Array];
    const outData = operands.at(-1)!;
    sessions.get(transposeA, transposeB, Boolean(bias), relu).run(
      {
        a: { data: aData, dims: [aRows, aColumns] },
        b: { data: bData, dims: [bRows, bColumns] },
        ...(bias && { bias: { data: operands[2]!, dims: [n] } }),
      },
      { y: { data: outData, dims: [m, n] } },
    );
    writeBack([outData], [views.at(-1)!]);
    return out;
  };
}

/** One session per kind of product (transposes, bias, ReLU), made when first needed. */
class MatMulSessions {
  private readonly sessions = new Map<string, OnnxSession>();

  constructor(
    private readonly runtime: OnnxRuntime,
    private readonly threads: number,
  ) {}

  get(transposeA: boolean, transposeB: boolean, bias: boolean, relu: boolean): OnnxSession {
    const key = [transposeA, transposeB, bias, relu].map(Number).join('');
    let session = this.sessions.get(key);
    if (!session) {
      session = this.runtime.session(matMulGraph(transposeA, transposeB, bias, relu), this.threads);
      this.sessions.set(key, session);
    }
    return session;
  }
}

/**
 * y = relu?(op(a) · op(b) + bias?) as Transpose, MatMul, Add and Relu nodes, which onnxruntime
 * fuses. Measured against Gemm with transA: the same speed, and MatMul's fusion covers every case.
 */
function matMulGraph(transposeA: boolean, transposeB: boolean, bias: boolean, relu: boolean): OnnxGraph {
  const nodes: OnnxNode[] = [];
  const operand = (name: 'a' | 'b', transpose: boolean) => {
    if (!transpose) return name;
    nodes.push({ op: 'Transpose', inputs: [name], outputs: [`${name}T`] });
    return `${name}T`;
  };
  const steps = [bias && 'Add', relu && 'Relu'].filter((step): step is string => Boolean(step));
  const names = ['product', ...steps.map((step) => step.toLowerCase())];
  names[names.length - 1] = 'y';
  nodes.push({ op: 'MatMul', inputs: [operand('a', transposeA), operand('b', transposeB)], outputs: [names[0]!] });
  steps.forEach((step, i) =>
    nodes.push({ op: step, inputs: step === 'Add' ? [names[i]!, 'bias'] : [names[i]!], outputs: [names[i + 1]!] }),
  );
  return {
    nodes,
    inputs: [
      { name: 'a', dims: ['aRows', 'aColumns'] },
      { name: 'b', dims: ['bRows', 'bColumns'] },
      ...(bias ? [{ name: 'bias', dims: ['n'] }] : []),
    ],
    outputs: [{ name: 'y', dims: ['m', 'n'] }],
  };
}
