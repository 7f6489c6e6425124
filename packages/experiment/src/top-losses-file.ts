import type { LabeledImages } from '@rxvision/dataset';
import type { TopLoss } from '@rxvision/metrics';
import { thumbnailPng } from '@rxvision/plot/node';

/** How many of the test images a finished run keeps in top-losses.json. */
export const TOP_LOSS_COUNT = 16;

/** One entry of top-losses.json: what the dashboard shows of a test image the model got most wrong. */
export interface TopLossEntry {
  readonly row: number;
  readonly label: string;
  readonly predicted: string;
  readonly probability: number;
  readonly trueProbability: number;
  readonly loss: number;
  /** The image as stored (at most 128 px on its longer side), a PNG data URL. */
  readonly image: string;
}

/** The entries of top-losses.json: each top loss with its class names and its image from `test`. */
export async function topLossEntries(test: LabeledImages, top: readonly TopLoss[]): Promise<TopLossEntry[]> {
  return Promise.all(
    top.map(async ({ row, label, predicted, probability, trueProbability, loss }) => ({
      row,
      label: test.classes[label]!,
      predicted: test.classes[predicted]!,
      probability,
      trueProbability,
      loss,
      image: `data:image/png;base64,${(await thumbnailPng(test.image(row), test.shape)).toString('base64')}`,
    })),
  );
}
