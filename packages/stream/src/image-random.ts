import { createRandom, type Random } from '@rxvision/dataset';

/** Which augmentation draws: each has a stream of its own, so two never draw alike. */
export const AUGMENTATION_STREAMS = {
  crop: 1,
  flip: 2,
  cutout: 3,
  resizedCrop: 4,
  mixup: 5,
  cutmix: 6,
  colorJitter: 7,
  rotation: 8,
  trivialAugment: 9,
  randAugment: 10,
} as const;

/**
 * The random numbers of one image in one epoch for one augmentation: a function of (seed, epoch,
 * row, stream) alone, never of batch size, order, or how many batches ran before. A resumed run,
 * or the same row in another batch, draws exactly the same.
 */
export function imageRandom(seed: number, epoch: number, row: number, stream: number): Random {
  let h = Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1);
  for (const word of [epoch, row, stream]) {
    h = Math.imul(h ^ (h >>> 15), 0x85ebca6b) ^ Math.imul(word + 0x7f4a7c15, 0xc2b2ae35);
    h = (h << 13) | (h >>> 19);
  }
  return createRandom(h >>> 0);
}

/** Checks an augmentation's seed, naming the augmentation. */
export function checkSeed(augmentation: string, seed: number): void {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`${augmentation}: seed must be an integer, got ${seed}`);
}
