import { createRequire } from 'node:module';
import { onnxModel, type OnnxGraph } from '@rxvision/onnx';

/** A synchronous onnxruntime session over one small model. */
export interface OnnxSession {
  /** Runs the model; each output is written into the Float32Array given for it. */
  run(
    inputs: Readonly<Record<string, { data: Float32Array; dims: readonly number[] }>>,
    outputs: Readonly<Record<string, { data: Float32Array; dims: readonly number[] }>>,
  ): void;
}

export interface OnnxRuntime {
  /** onnxruntime-node's version. */
  readonly version: string;
  /** A session running `graph` with `threads` intra-op threads. */
  session(graph: OnnxGraph, threads: number): OnnxSession;
}

interface NativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: Record<string, unknown>, fetches: Record<string, unknown>, options: object): unknown;
}

interface NativeModule {
  binding: { InferenceSession: new () => NativeSession };
  initOrt(): void;
}

type TensorConstructor = new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;

const PACKAGE = 'onnxruntime-node';
let loaded: OnnxRuntime | undefined;

/**
 * onnxruntime-node's native binding, called synchronously. Its public `InferenceSession.run` is
 * async only because it defers the binding's synchronous run with setImmediate; tfjs kernels must
 * return their result, so this calls the binding (`dist/binding.js`, which the package does not
 * hide behind an exports map) directly. Throws, with the reason, when the package is missing or
 * its native library does not load.
 */
export function loadOnnxRuntime(): OnnxRuntime {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve(PACKAGE);
  } catch {
    throw new Error('not installed');
  }
  const fromPackage = createRequire(entry);
  const { binding, initOrt } = fromPackage('./binding.js') as NativeModule;
  const { Tensor } = fromPackage('onnxruntime-common') as { Tensor: TensorConstructor };
  const { version } = fromPackage('../package.json') as { version: string };
  initOrt();
  const tensor = ({ data, dims }: { data: Float32Array; dims: readonly number[] }) => new Tensor('float32', data, dims);
  loaded = {
    version,
    session(graph, threads) {
      const native = new binding.InferenceSession();
      const bytes = onnxModel(graph);
      native.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        // Spinning pool threads take the core from the work that runs between two products.
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      });
      return {
        run(inputs, outputs) {
          const feeds = Object.fromEntries(Object.entries(inputs).map(([name, value]) => [name, tensor(value)]));
          const fetches = Object.fromEntries(Object.entries(outputs).map(([name, value]) => [name, tensor(value)]));
          native.run(feeds, fetches, {});
        },
      };
    },
  };
  return loaded;
}
