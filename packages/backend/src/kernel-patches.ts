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

/**
 * Every kernel this package replaces on a backend goes through here: `make` receives the kernel
 * registered before (which the new one may call for the cases it does not cover) and returns its
 * replacement. A patch by the same `by` on the same backend and kernel happens once; later patches
 * by others wrap the ones before, in the order applied. Returns whether it patched now.
 */
export function patchKernel(backendName: string, kernelName: string, by: string, make: (original: KernelFunc | undefined) => KernelFunc): boolean {
  if (patches.some((p) => p.backend === backendName && p.kernel === kernelName && p.by === by)) return false;
  const original = getKernel(kernelName, backendName);
  const kernelFunc = make(original?.kernelFunc as KernelFunc | undefined);
  if (original) unregisterKernel(kernelName, backendName);
  registerKernel({ ...(original as KernelConfig | undefined), kernelName, backendName, kernelFunc });
  patches.push({ backend: backendName, kernel: kernelName, by, replaced: Boolean(original) });
  return true;
}

/** What this package patched, oldest first; for one backend when named. */
export function kernelPatches(backendName?: string): readonly KernelPatch[] {
  return patches.filter((p) => backendName === undefined || p.backend === backendName);
}
