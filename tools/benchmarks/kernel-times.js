import * as tf from '@tensorflow/tfjs-core';

/**
 * Times every kernel call from now on, where all of them pass: the engine's runKernelFunc.
 * Synchronous backends only (cpu, wasm, onednn, onnxruntime): a GPU backend's kernels return before
 * their work is done. Each time is the call's own, without the kernels it runs (a custom
 * gradient's forward calls others).
 */
export function timeKernels() {
  const totals = new Map();
  const engine = tf.engine();
  const runKernelFunc = engine.runKernelFunc.bind(engine);
  const nested = []; // the time of the kernels each open call ran, innermost last
  engine.runKernelFunc = (call) => {
    const started = performance.now();
    nested.push(0);
    try {
      return runKernelFunc(call);
    } finally {
      const elapsed = performance.now() - started;
      const inner = nested.pop();
      if (nested.length) nested[nested.length - 1] += elapsed;
      const name = call.kernelName ?? '(custom gradient)';
      totals.set(name, (totals.get(name) ?? 0) + elapsed - inner);
    }
  };
  return {
    /** Forgets what was timed so far (the warm-up steps). */
    reset: () => totals.clear(),
    /** The `top` slowest kernels, in milliseconds per step over `steps` steps. */
    print: (steps, top) => {
      for (const [kernel, ms] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, top))
        console.log(`  ${kernel.padEnd(28)} ${(ms / steps).toFixed(1).padStart(7)} ms`);
    },
  };
}
