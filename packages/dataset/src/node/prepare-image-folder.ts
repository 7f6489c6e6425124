import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
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
  /**
   * Multi-label data: a CSV file (a header line, then `file,labels` lines) naming each image by its
   * path in `source` and every class it shows, separated by spaces (fastai's `label_delim=' '`, the
   * layout of Kaggle's Planet labels). The images are then the files it lists, in its order, and
   * the classes every name it uses, sorted; sub-folders need not be classes.
   */
  readonly labels?: string;
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
  const labelsFile = options.labels === undefined ? undefined : resolve(options.labels);
  const { classes, files } = labelsFile ? await listLabeledImages(source, labelsFile) : await listImages(source);
  const digest = createHash('sha256');
  if (labelsFile)
    digest.update(
      `labels\0${createHash('sha256')
        .update(await readFile(labelsFile))
        .digest('hex')}\n`,
    );
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

    const writer = await ImageDatasetWriter.create(out, {
      classes,
      shape,
      rows: files.length,
      sources,
      claim,
      multiLabel: labelsFile !== undefined,
    });
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

interface ListedImages {
  readonly classes: string[];
  readonly files: { path: string; label: number | number[] }[];
}

async function listImages(source: string): Promise<ListedImages> {
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

/** The images a labels CSV lists, each with its classes; every problem one line naming the CSV's line. */
async function listLabeledImages(source: string, labelsFile: string): Promise<ListedImages> {
  const cannot = (error: NodeJS.ErrnoException) => {
    throw new DatasetError(labelsFile, error.code === 'ENOENT' ? 'does not exist' : `cannot be read (${error.message})`);
  };
  if (!(await stat(labelsFile).catch(cannot)).isFile()) throw new DatasetError(labelsFile, 'is not a file');
  const text = await readFile(labelsFile, 'utf8').catch(cannot);
  const lines = text
    .split(/\r?\n/)
    .map((line, index) => ({ line, number: index + 1 }))
    .slice(1)
    .filter(({ line }) => line.trim() !== '');
  if (lines.length === 0) throw new DatasetError(labelsFile, 'lists no images (expected a header line, then file,labels lines)');
  const unquoted = (field: string) => field.trim().replace(/^"(.*)"$/s, '$1');
  const seen = new Set<string>();
  const listed = lines.map(({ line, number }) => {
    const comma = line.indexOf(',');
    const at = `line ${number}`;
    if (comma < 0) throw new DatasetError(labelsFile, `${at} is not file,labels`);
    const file = unquoted(line.slice(0, comma));
    const names = unquoted(line.slice(comma + 1))
      .split(/\s+/)
      .filter(Boolean);
    const path = resolve(source, file);
    if (file === '' || !(path.startsWith(`${source}${sep}`) && IMAGE_EXTENSIONS.has(extname(path).toLowerCase())))
      throw new DatasetError(labelsFile, `${at} names ${JSON.stringify(file)}, not a PNG, JPEG or WebP file inside ${source}`);
    if (seen.has(path)) throw new DatasetError(labelsFile, `${at} lists ${file} a second time`);
    if (names.length === 0) throw new DatasetError(labelsFile, `${at} gives ${file} no labels; every image needs at least one`);
    seen.add(path);
    return { path, names, at };
  });
  const classes = [...new Set(listed.flatMap(({ names }) => names))].sort();
  const index = new Map(classes.map((name, i) => [name, i]));
  // stat, not open: a listed FIFO or folder must not be read (it would hang or fail obscurely).
  for (const { path, at } of listed) {
    const problem = await stat(path).then(
      (found) => (found.isFile() ? undefined : 'is not a file'),
      (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? 'does not exist' : `cannot be read (${error.message})`),
    );
    if (problem) throw new DatasetError(labelsFile, `${at}: ${relative(source, path)} ${problem}`);
  }
  return { classes, files: listed.map(({ path, names }) => ({ path, label: names.map((name) => index.get(name)!) })) };
}
