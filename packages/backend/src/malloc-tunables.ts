/**
 * glibc malloc settings under which a process keeps freed large buffers for reuse. onnxruntime's
 * Node binding returns a fresh copy of every output (a 20 MB weight gradient, for the tutorial
 * MLP); with glibc's defaults such buffers are mapped and unmapped on each call, and the page
 * faults of mapping them again cost 70 ms of a 45 ms step on this project's virtual machine.
 * glibc reads them only at start-up: set GLIBC_TUNABLES before the process starts.
 */
export const MALLOC_TUNABLES = 'glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=1073741824';

export const MALLOC_TUNABLES_HINT = `steps can take twice as long unless the process starts with GLIBC_TUNABLES=${MALLOC_TUNABLES} (the rxvision CLI sets it)`;

/** Whether this process needs no malloc settings: not glibc, or they are set. */
export function mallocTunablesApplied(env: NodeJS.ProcessEnv = process.env): boolean {
  if (!isGlibc()) return true;
  return /glibc\.malloc\.mmap_threshold=/.test(env.GLIBC_TUNABLES ?? '');
}

let glibc: boolean | undefined;

/** Whether Node runs on glibc (musl and other platforms ignore GLIBC_TUNABLES). */
export function isGlibc(): boolean {
  glibc ??= process.platform === 'linux' && Boolean((process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime);
  return glibc;
}
