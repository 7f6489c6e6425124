import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';

const SOFTWARE = /llvmpipe|lavapipe|swiftshader/i;

const NO_ADAPTER = 'no WebGPU adapter: Dawn found no GPU and no usable Vulkan driver (lavapipe needs Mesa ≥ 25)';

/** The fields of `GPUAdapterInfo` this package looks at. */
interface AdapterInfo {
  readonly description?: string;
  readonly vendor?: string;
  readonly isFallbackAdapter?: boolean;
  readonly architecture?: string;
}

interface AdapterLike {
  readonly info?: AdapterInfo;
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
  if (!adapter) throw new Error(NO_ADAPTER);
  return describeAdapter(adapter.info ?? {});
}

function describeAdapter(info: AdapterInfo): WebGpuAdapter {
  return {
    description: info.description || info.vendor || 'unknown adapter',
    software: info.isFallbackAdapter === true || info.architecture === 'software' || SOFTWARE.test(info.description ?? ''),
  };
}

/**
 * Asks for an adapter in a separate Node process and reports what it found. Dawn writes driver
 * warnings straight to the process's stderr when an adapter is created; probing elsewhere keeps
 * `auto` quiet on machines whose only adapter is one it will not use anyway.
 */
export function probeWebGpuInChildProcess(webgpuEntry: string, timeoutMs = 30_000): Promise<WebGpuAdapter> {
  const script = `
    const { create } = await import(${JSON.stringify(pathToFileURL(webgpuEntry).href)});
    const adapter = await create([]).requestAdapter({ powerPreference: 'high-performance' });
    const info = adapter?.info ?? {};
    process.stdout.write(JSON.stringify(adapter ? { description: info.description, vendor: info.vendor, isFallbackAdapter: info.isFallbackAdapter, architecture: info.architecture } : null));
    process.exit(0);`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: timeoutMs }, (error, stdout) => {
      if (error) return reject(new Error(`the WebGPU probe failed (${error.message.split('\n')[0]})`));
      const found = JSON.parse(stdout || 'null') as AdapterInfo | null;
      if (!found) return reject(new Error(NO_ADAPTER));
      resolve(describeAdapter(found));
    });
  });
}
