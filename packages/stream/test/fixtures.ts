import { ImageDataset } from '@rxvision/dataset';

/** `rows` 2×2 RGB images: every pixel of row r is r, the label r mod 3. Small and self-checking. */
export function tinyDataset(rows: number): ImageDataset {
  const pixels = new Uint8Array(rows * 12);
  for (let r = 0; r < rows; r++) pixels.fill(r, r * 12, (r + 1) * 12);
  const labels = Uint8Array.from({ length: rows }, (_, r) => r % 3);
  return ImageDataset.fromArrays({ classes: ['a', 'b', 'c'], shape: [2, 2, 3], pixels, labels }, 'tiny');
}
