import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { DatasetError } from '../errors.js';
import type { ImageShape } from '../schema.js';
import type { EncodedImagesOptions, PreparedImages } from './encoded-images.js';
import { ImageDatasetWriter } from './image-dataset-writer.js';
import { loadImageDecoder } from './image-decoder.js';
import { inClaimedFolder } from './claimed-folder.js';
import { preparedState } from './prepared-state.js';

export interface PrepareImageFolderOptions extends EncodedImagesOptions {
  /** A folder with one sub-folder per class (its name is the class name), holding PNG, JPEG or WebP files. */
  readonly source: string;
}

export type PrepareImageFolderResult = PreparedImages;

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp']);

/**
 * An image folder (`source/<class>/<image>`, as torchvision's ImageFolder reads) as an rxvision
 * Arrow file: classes in name order, images in name order within each, decoded by sharp (an
 * optional peer dependency of this package). A damaged image or one of another size names itself in
 * one line, and nothing is left behind. The folder's digest (every file's path and sha256) is
 * stored, so preparing it again is a no-op.
 */
export async function prepareImageFolder(options: PrepareImageFolderOptions): Promise<PrepareImageFolderResult> {
  const source = resolve(options.source);
  const out = resolve(options.out);
  if (out === source || out.startsWith(`${source}${sep}`))
    throw new DatasetError(out, `is inside the image folder ${source}; write it somewhere else`);
  const channels = options.channels ?? 3;
  const decoder = await loadImageDecoder(source);
  const { classes, files } = await listImages(source);
  const digest = createHash('sha256');
  const hashes = await Promise.all(
    files.map(async ({ path }) =>
      createHash('sha256')
        .update(await readFile(path))
        .digest('hex'),
    ),
  );
  files.forEach(({ path }, i) => digest.update(`${relative(source, path)}\0${hashes[i]}\n`));
  const sources = { [`${basename(source)}/`]: digest.digest('hex') };

  const first = await decoder.size(files[0]!.path, files[0]!.path);
  const [height, width] = options.size ?? [first.height, first.width];
  const shape: ImageShape = [height, width, channels];
  return inClaimedFolder(dirname(out), { ...options, purpose: 'prepare' }, async (claim) => {
    const state = await preparedState(out, sources, files.length);
    if (state === 'prepared') return { path: out, rows: files.length, classes, shape, skipped: true };
    if (state !== 'missing' && !options.force)
      throw new DatasetError(
        out,
        `exists and is not this folder's images (it ${state.problem}); left as it is (move it away, or prepare with force to replace it)`,
      );

    const writer = await ImageDatasetWriter.create(out, { classes, shape, rows: files.length, sources, claim });
    try {
      for (const [index, file] of files.entries()) {
        await writer.append(
          await decoder.decode(file.path, file.path, {
            height,
            width,
            channels,
            resize: options.size !== undefined,
            first: files[0]!.path,
          }),
          file.label,
        );
        options.onProgress?.({ images: index + 1, totalImages: files.length });
      }
      await writer.commit();
    } catch (error) {
      await writer.abort();
      throw error;
    }
    return { path: out, rows: files.length, classes, shape, skipped: false };
  });
}

async function listImages(source: string): Promise<{ classes: string[]; files: { path: string; label: number }[] }> {
  const entries = await readdir(source, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    throw new DatasetError(
      source,
      error.code === 'ENOENT'
        ? 'does not exist'
        : error.code === 'ENOTDIR'
          ? 'is a file, not a folder of class folders'
          : `cannot be read (${error.message})`,
    );
  });
  const classes = entries
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort();
  if (classes.length === 0) throw new DatasetError(source, 'holds no class folders (expected one sub-folder of images per class)');
  const files: { path: string; label: number }[] = [];
  for (const [label, name] of classes.entries()) {
    const inClass = (await readdir(join(source, name), { withFileTypes: true }))
      .filter((entry) => entry.isFile() && IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase()))
      .map((entry) => entry.name)
      .sort();
    files.push(...inClass.map((file) => ({ path: join(source, name, file), label })));
  }
  if (files.length === 0) throw new DatasetError(source, `its class folders (${classes.join(', ')}) hold no PNG, JPEG or WebP files`);
  return { classes, files };
}
