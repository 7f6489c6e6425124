import * as tf from '@tensorflow/tfjs-core';

interface Engine {
  registry: Record<string, tf.KernelBackend | undefined>;
  backendName: string | null;
  backendInstance: tf.KernelBackend | null;
}

/**
 * Registers backend `name` as the wasm backend under another name: the same backend object (one
 * wasm heap, one thread pool) and, to start with, the same kernels, which the caller then
 * replaces for `name` alone. Results that differ get a name of their own, so `wasm` keeps
 * reproducing what it produced. Kernels registered for wasm later are not copied.
 */
export function registerWasmVariant(name: string): void {
  if (tf.findBackendFactory(name)) return;
  tf.registerBackend(
    name,
    async () => {
      // wasm's own factory, not the engine's initialiser: that would make this pending
      // initialisation stale. The kernels' setup functions run for `name` with this object.
      const engine = tf.engine() as unknown as Engine;
      engine.registry.wasm ??= await tf.findBackendFactory('wasm')!();
      return engine.registry.wasm;
    },
    0,
  );
  for (const kernel of tf.getKernelsForBackend('wasm')) tf.registerKernel({ ...kernel, backendName: name });
}

/**
 * Before the wasm backend object is replaced (another thread count): variants drop their
 * reference to it without disposing it a second time, and are made again from the new one.
 */
export function forgetWasmVariants(): void {
  const engine = tf.engine() as unknown as Engine;
  const wasm = engine.registry.wasm;
  if (!wasm) return;
  for (const [name, backend] of Object.entries(engine.registry)) {
    if (name === 'wasm' || backend !== wasm) continue;
    delete engine.registry[name];
    if (engine.backendName === name) {
      engine.backendName = null;
      engine.backendInstance = null;
    }
  }
}
