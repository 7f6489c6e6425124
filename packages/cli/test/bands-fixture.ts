import { ImageDatasetWriter } from '@rxvision/dataset/node';

/**
 * `rows` grey 16×16 images in three classes, class c brighter in band c of rows, with a texture
 * that differs per image: learnable within an epoch or two, an epoch of a second or so on wasm.
 */
export async function writeGreyBands(path: string, rows: number): Promise<void> {
  const writer = await ImageDatasetWriter.create(path, { classes: ['top', 'middle', 'bottom'], shape: [16, 16, 1], rows });
  for (let row = 0; row < rows; row++) {
    const label = row % 3;
    await writer.append(
      Uint8Array.from({ length: 256 }, (_, i) => (Math.min(2, Math.floor(i / 86)) === label ? 140 : 40) + ((row * 17 + i * 5) % 90)),
      label,
    );
  }
  await writer.commit();
}
