import type { ImageShape } from '../schema.js';
import type { DataFolderOptions } from './claimed-folder.js';

/** How images stored encoded (PNG, JPEG, WebP) become rows: shared by image folders and Parquet. */
export interface EncodedImagesOptions extends DataFolderOptions {
  /** The Arrow file to write; never one of the sources. */
  readonly out: string;
  /** [height, width] to resize every image to; without it, every image must have the first one's size. */
  readonly size?: readonly [number, number];
  /** 3 (RGB, the default) or 1 (grey). */
  readonly channels?: 1 | 3;
  /** Replace an existing `out` that is not this prepared dataset. */
  readonly force?: boolean;
  readonly onProgress?: (progress: { readonly images: number; readonly totalImages: number }) => void;
}

/** What a preparation from encoded images wrote (or found already written). */
export interface PreparedImages {
  readonly path: string;
  readonly rows: number;
  readonly classes: readonly string[];
  readonly shape: ImageShape;
  /** True when `out` already held these images, prepared from the same sources. */
  readonly skipped: boolean;
}
