import type { Experiment } from './experiment.js';

/** ImageNet's per-channel mean and standard deviation, with which torchvision's pretrained models were trained. */
export const IMAGENET_NORMALIZE = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } as const;

/** An experiment's normalisation as numbers (`imagenet` named), or undefined for none. */
export function normalizationOf(normalize: Experiment['normalize']): { mean: number[]; std: number[] } | undefined {
  if (normalize === undefined) return undefined;
  const { mean, std } = normalize === 'imagenet' ? IMAGENET_NORMALIZE : normalize;
  return { mean: [...mean], std: [...std] };
}
