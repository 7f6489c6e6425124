import type { SymbolicTensor } from '@tensorflow/tfjs-layers';

/** A layer applied to symbolic tensors, typed as the one tensor it gives (tfjs-layers' `apply` returns a union). */
export const applyLayer = (layer: { apply(x: SymbolicTensor | SymbolicTensor[]): unknown }, x: SymbolicTensor | SymbolicTensor[]) =>
  layer.apply(x) as SymbolicTensor;
