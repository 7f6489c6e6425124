import { getKernel, type KernelConfig, type KernelFunc, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';

/** A kernel of a backend that this package replaced, and with whose work. */
export interface KernelPatch {
  readonly backend: string;
  readonly kernel: string;
  /** Who replaced it: a name such as `onednn` or `onnxruntime-mat-mul`. */
  readonly by: string;
  /** Whether a kernel stood there before (the patch replaced it) or none did (the patch added it). */
  readonly replaced: boolean;
}

const patches: KernelPatch[] = [];
/** Every kernel function made here: by whom, and the one it wraps. */
const made = new WeakMap<KernelFunc, { by: string; original: KernelFunc | undefined }>();

/** Whether `by` made `kernelFunc` or any kernel it wraps (a variant copies wasm's patched kernels). */
export function patchedBy(kernelFunc: KernelFunc | undefined, by: string): boolean {
  for (let f = kernelFunc; f; f = made.get(f)?.original) if (made.get(f)?.by === by) return true;
  return false;
}

/**
 * Every kernel this package replaces on a backend goes through here: `make` receives the kernel
 * registered before (which the new one may call for the cases it does not cover) and returns its
 * replacement. Where `by` already patched the kernel there (or the kernel copied there), nothing
 * happens; patches by others wrap the ones before, in the order applied. Returns whether it patched.
 */
export function patchKernel(
  backendName: string,
  kernelName: string,
  by: string,
  make: (original: KernelFunc | undefined) => KernelFunc,
): boolean {
  const existing = getKernel(kernelName, backendName);
  const original = existing?.kernelFunc as KernelFunc | undefined;
  if (patchedBy(original, by)) return false;
  const kernelFunc = make(original);
  made.set(kernelFunc, { by, original });
  if (existing) unregisterKernel(kernelName, backendName);
  registerKernel({ ...(existing as KernelConfig | undefined), kernelName, backendName, kernelFunc });
  patches.push({ backend: backendName, kernel: kernelName, by, replaced: Boolean(existing) });
  return true;
}

/** What this package patched, oldest first; for one backend when named. */
export function kernelPatches(backendName?: string): readonly KernelPatch[] {
  return patches.filter((p) => backendName === undefined || p.backend === backendName);
}
