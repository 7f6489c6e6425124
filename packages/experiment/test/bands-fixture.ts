import { join } from 'node:path';
import { ImageDatasetWriter } from '@rxvision/dataset/node';

/**
 * Writes train.arrow (200 rows) and test.arrow (40) into `dir`: grey 4×4 images, brighter in the
 * top or the bottom half. A small network learns them in an epoch or two.
 */
export async function writeBandsDataset(dir: string): Promise<void> {
  for (const [file, rows] of [
    ['train.arrow', 200],
    ['test.arrow', 40],
  ] as const) {
    const writer = await ImageDatasetWriter.create(join(dir, file), { classes: ['top', 'bottom'], shape: [4, 4, 1], rows });
    for (let row = 0; row < rows; row++)
      await writer.append(
        Uint8Array.from({ length: 16 }, (_, i) => (i < 8 === (row % 2 === 0) ? 160 : 50) + ((row * 7 + i * 13) % 40)),
        row % 2,
      );
    await writer.commit();
  }
}
