import type { Dnnl } from '@rxvision/dnnl-linux-x64';

/** Large freed buffers are kept for reuse below this size (256 MiB)… */
const MMAP_THRESHOLD = 268_435_456;
/** …and the heap is trimmed only past this much free memory at its top (1 GiB). */
const TRIM_THRESHOLD = 1_073_741_824;

/**
 * glibc malloc settings under which a process keeps freed large buffers for reuse. onnxruntime's
 * Node binding returns a fresh copy of every output (a 20 MB weight gradient, for the tutorial
 * MLP); with glibc's defaults such buffers are mapped and unmapped on each call, and the page
 * faults of mapping them again cost 70 ms of a 45 ms step on this project's virtual machine. As an
 * environment variable glibc reads them only at start-up; `selectBackend('onnxruntime')` sets the
 * same thresholds at run time (mallopt, through @rxvision/dnnl-linux-x64's addon) where it can.
 */
export const MALLOC_TUNABLES = `glibc.malloc.mmap_threshold=${MMAP_THRESHOLD}:glibc.malloc.trim_threshold=${TRIM_THRESHOLD}`;

export const MALLOC_TUNABLES_HINT = `steps can take twice as long unless the process starts with GLIBC_TUNABLES=${MALLOC_TUNABLES} (@rxvision/dnnl-linux-x64, which sets them at run time, is not available here)`;

let setAtRunTime = false;

/** Sets the thresholds now, through the addon's mallopt; whether glibc took them. */
export function keepFreedMemory(dnnl: Pick<Dnnl, 'keepFreedMemory'>): boolean {
  if (!isGlibc()) return false;
  setAtRunTime ||= dnnl.keepFreedMemory(MMAP_THRESHOLD, TRIM_THRESHOLD);
  return setAtRunTime;
}

/** Whether this process needs no malloc settings: not glibc, or they are set (at start-up or since). */
export function mallocTunablesApplied(env: NodeJS.ProcessEnv = process.env): boolean {
  if (!isGlibc() || setAtRunTime) return true;
  return /glibc\.malloc\.mmap_threshold=/.test(env.GLIBC_TUNABLES ?? '');
}

let glibc: boolean | undefined;

/** Whether Node runs on glibc (musl and other platforms ignore GLIBC_TUNABLES). */
export function isGlibc(): boolean {
  glibc ??=
    process.platform === 'linux' &&
    Boolean((process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime);
  return glibc;
}
