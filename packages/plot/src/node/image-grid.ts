import sharp from 'sharp';

/** The images to draw: a dataset, a split, anything with pixels by index in HWC order. */
export interface GridImages {
  readonly shape: readonly [number, number, number];
  image(index: number): Uint8Array;
}

/**
 * Lays images out like torchvision's `make_grid(images, nrow)`: `nrow` per row, 2 px of black
 * padding around each, then scales the grid up (nearest neighbour) so 32 px images are visible.
 */
export async function imageGrid(dataset: GridImages, count: number, perRow: number, scale = 2): Promise<Buffer> {
  const [height, width, channels] = dataset.shape;
  const padding = 2;
  const rows = Math.ceil(count / perRow);
  const gridWidth = perRow * (width + padding) + padding;
  const gridHeight = rows * (height + padding) + padding;
  const grid = Buffer.alloc(gridWidth * gridHeight * channels);
  for (let i = 0; i < count; i++) {
    const image = dataset.image(i);
    const top = padding + Math.floor(i / perRow) * (height + padding);
    const left = padding + (i % perRow) * (width + padding);
    for (let y = 0; y < height; y++) {
      const from = y * width * channels;
      grid.set(image.subarray(from, from + width * channels), ((top + y) * gridWidth + left) * channels);
    }
  }
  return sharp(grid, { raw: { width: gridWidth, height: gridHeight, channels: channels as 3 } })
    .resize(gridWidth * scale, gridHeight * scale, { kernel: 'nearest' })
    .png()
    .toBuffer();
}

/** One image enlarged (nearest neighbour) under a caption such as "frog (label 6)". */
export async function captionedImage(
  pixels: Uint8Array,
  shape: readonly [number, number, number],
  caption: string,
  size = 256,
): Promise<Buffer> {
  const [height, width, channels] = shape;
  const enlarged = await sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), {
    raw: { width, height, channels: channels as 3 },
  })
    .resize(size, size, { kernel: 'nearest' })
    .png()
    .toBuffer();
  const captionHeight = 36;
  const text = caption.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!);
  const label = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${captionHeight}"><text x="${size / 2}" y="25" font-family="DejaVu Sans, sans-serif" font-size="18" text-anchor="middle" fill="black">${text}</text></svg>`,
  );
  return sharp({ create: { width: size, height: size + captionHeight, channels: 3, background: 'white' } })
    .composite([
      { input: label, top: 0, left: 0 },
      { input: enlarged, top: captionHeight, left: 0 },
    ])
    .png()
    .toBuffer();
}

/** One image as a PNG no larger than `longest` pixels on its longer side (smaller ones kept as they are). */
export async function thumbnailPng(pixels: Uint8Array, shape: readonly [number, number, number], longest = 128): Promise<Buffer> {
  const [height, width, channels] = shape;
  const image = sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), {
    raw: { width, height, channels: channels as 3 },
  });
  const fits = Math.max(height, width) <= longest;
  return (fits ? image : image.resize(longest, longest, { fit: 'inside' })).png().toBuffer();
}
