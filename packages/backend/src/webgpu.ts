/** The subset of a WebGPU adapter this package looks at. */
interface AdapterLike {
  readonly info?: { readonly description?: string; readonly vendor?: string; readonly isFallbackAdapter?: boolean; readonly architecture?: string };
}

interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<AdapterLike | null>;
}

export interface WebGpuAdapter {
  /** For people: the driver's own description (on lavapipe: "llvmpipe: Mesa 25…"). */
  readonly description: string;
  /** A software adapter (lavapipe, SwiftShader): it works, but slower than wasm on the same CPU. */
  readonly software: boolean;
}

/**
 * Makes `navigator.gpu` exist in Node through Dawn's bindings (the `webgpu` package). This must
 * happen before `@tensorflow/tfjs-backend-webgpu` is imported: it registers itself only when it
 * finds `navigator.gpu`. Throws with a plain reason when there is no adapter.
 */
export async function installNodeWebGpu(importOptional: (name: string) => Promise<unknown>): Promise<WebGpuAdapter> {
  const scope = globalThis as unknown as { navigator?: { gpu?: GpuLike } };
  if (!scope.navigator?.gpu) {
    const { create, globals } = (await importOptional('webgpu')) as { create(flags: string[]): GpuLike; globals: Record<string, unknown> };
    Object.assign(globalThis, globals);
    const gpu = create([]);
    if (scope.navigator) Object.defineProperty(scope.navigator, 'gpu', { value: gpu, configurable: true });
    else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  }
  const adapter = await scope.navigator!.gpu!.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('no WebGPU adapter: Dawn found no GPU and no usable Vulkan driver (lavapipe needs Mesa ≥ 25)');
  const info = adapter.info ?? {};
  return {
    description: info.description || info.vendor || 'unknown adapter',
    software: info.isFallbackAdapter === true || info.architecture === 'software' || /llvmpipe|lavapipe|swiftshader/i.test(info.description ?? ''),
  };
}
