import type sharpModule from 'sharp';
import { DatasetError } from '../errors.js';

type Sharp = typeof sharpModule;

/** What a decoded image must be: its size (resized to it, or refused if it differs) and channels. */
export interface DecodeTarget {
  readonly height: number;
  readonly width: number;
  readonly channels: 1 | 3;
  readonly resize: boolean;
  /** Names the image that set the size, in the message for one that differs. */
  readonly first: string;
}

/**
 * PNG, JPEG and WebP through sharp, an optional peer dependency of this package: loaded on first
 * use, with a one-line error naming `source` where it is not installed.
 */
export async function loadImageDecoder(source: string): Promise<ImageDecoder> {
  try {
    return new ImageDecoder((await import('sharp')).default);
  } catch {
    throw new DatasetError(source, 'reading images needs the optional package sharp: npm install sharp');
  }
}

export class ImageDecoder {
  constructor(private readonly sharp: Sharp) {}

  /** The image's size, from its header; `name` says where it came from in errors. */
  async size(input: string | Uint8Array, name: string): Promise<{ width: number; height: number }> {
    try {
      const { width, height, format } = await this.sharp(input).metadata();
      if (!['png', 'jpeg', 'webp'].includes(format ?? '') || !width || !height) throw new Error(`a ${format ?? 'unknown'} image`);
      return { width, height };
    } catch (error) {
      throw new DatasetError(name, `is not a readable PNG, JPEG or WebP image (${(error as Error).message.split('\n')[0]})`);
    }
  }

  /** HWC bytes of `target`'s size and channels. */
  async decode(input: string | Uint8Array, name: string, target: DecodeTarget): Promise<Uint8Array> {
    const { width, height } = await this.size(input, name);
    if (!target.resize && (width !== target.width || height !== target.height)) {
      throw new DatasetError(
        name,
        `is ${width}×${height} pixels, the first image (${target.first}) ${target.width}×${target.height}: give a size to resize them all`,
      );
    }
    try {
      const image = this.sharp(input).removeAlpha();
      const colour = target.channels === 1 ? image.greyscale() : image.toColourspace('srgb');
      const { data, info } = await colour.resize(target.width, target.height, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
      if (info.channels !== target.channels) throw new Error(`decoded to ${info.channels} channels`);
      return data;
    } catch (error) {
      throw new DatasetError(name, `is a damaged image (${(error as Error).message.split('\n')[0]})`);
    }
  }
}
