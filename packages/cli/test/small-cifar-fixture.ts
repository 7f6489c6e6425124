import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CIFAR10 } from '@rxvision/dataset';
import { ImageDatasetWriter } from '@rxvision/dataset/node';

/**
 * A prepared data folder shaped like CIFAR-10 (train.arrow and test.arrow of 32×32 colour images in
 * its ten classes, the test split balanced) for the commands that need no real CIFAR-10: class c is
 * a brighter 8×8 block at its own place on a textured background, learnable within an epoch.
 */
export async function writeSmallCifar(
  dataDir: string,
  rows: { train: number; test: number } = { train: 2000, test: 1000 },
): Promise<string> {
  await mkdir(dataDir, { recursive: true });
  for (const [split, count, salt] of [
    ['train', rows.train, 0],
    ['test', rows.test, 7],
  ] as const) {
    const writer = await ImageDatasetWriter.create(join(dataDir, `${split}.arrow`), {
      classes: CIFAR10.classes,
      shape: [32, 32, 3],
      rows: count,
    });
    for (let row = 0; row < count; row++) {
      const label = row % 10;
      const [blockY, blockX] = [8 * Math.floor(label / 4), 8 * (label % 4)];
      const pixels = new Uint8Array(32 * 32 * 3);
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          const inBlock = y >= blockY && y < blockY + 8 && x >= blockX && x < blockX + 8;
          for (let c = 0; c < 3; c++)
            pixels[(y * 32 + x) * 3 + c] = (inBlock ? 150 : 30) + ((row * 31 + salt + y * 7 + x * 3 + c * 11) % 80);
        }
      }
      await writer.append(pixels, label);
    }
    await writer.commit();
  }
  return dataDir;
}
