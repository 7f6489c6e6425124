import { createHash } from 'node:crypto';
import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BinaryRecordDecoder, type BinaryDatasetSpec, CIFAR10, type RawFileSpec } from '../cifar10.js';
import { DatasetError } from '../errors.js';
import { imageRecordBatch } from '../record-batch.js';
import { imageDatasetSchema } from '../schema.js';
import { asOutOfSpace } from '@rxvision/folder';
import { AtomicArrowFile } from './atomic-arrow-file.js';
import { type DataFolderOptions, inClaimedFolder } from './claimed-folder.js';
import { preparedState } from './prepared-state.js';
import { defaultCifar10Source, isUrl, type OpenedSource, openSource, type SourceKind } from './source.js';
import type { RawFile } from './raw-files.js';
import { DATA_SPLITS, DataFolder } from './data-folder.js';

export interface PrepareOptions extends DataFolderOptions {
  /** A URL, a `.tar.gz` file or an extracted folder; defaults to `RXVISION_CIFAR10_SOURCE`, else the official URL. */
  readonly source?: string;
  /** Where `train.arrow` and `test.arrow` go; default `data/cifar10`. */
  readonly dataDir?: string;
  /** The dataset's layout and checksums; default the official CIFAR-10. */
  readonly spec?: BinaryDatasetSpec;
  /** Rewrite even when the files are already prepared, and replace files that are not. */
  readonly force?: boolean;
  /** A download that sends nothing for this long fails (default 30 s). */
  readonly timeoutMs?: number;
  readonly onProgress?: (progress: PrepareProgress) => void;
}

export interface PrepareProgress {
  readonly kind: SourceKind;
  readonly bytes: number;
  readonly totalBytes: number | undefined;
}

/** What every prepare of a named dataset (CIFAR-10, CIFAR-100, Fashion-MNIST) returns: one shape. */
export interface PrepareResult {
  /** The path of train.arrow. */
  readonly train: string;
  /** The path of test.arrow. */
  readonly test: string;
  /** Images in each. */
  readonly rows: { readonly train: number; readonly test: number };
  /** True when both files were already prepared from the same raw files and nothing was done. */
  readonly skipped: boolean;
  readonly source: string;
}

export const DEFAULT_DATA_DIR = join('data', 'cifar10');
const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Turns the raw binary dataset into `train.arrow` and `test.arrow`: streams the source, checks
 * each file's size, labels and sha256, and renames the outputs into place only when all passed.
 * Memory: at most the train files once (the official tarball does not store them in order).
 */
export async function prepareCifar10(options: PrepareOptions = {}): Promise<PrepareResult> {
  const spec = options.spec ?? CIFAR10;
  const dataDir = resolve(options.dataDir ?? DEFAULT_DATA_DIR);
  const source = options.source ?? defaultCifar10Source();
  const folder = new DataFolder(dataDir);
  const paths = { train: folder.splitFile('train'), test: folder.splitFile('test') };
  const countOf = (split: 'train' | 'test') =>
    spec.files.filter((file) => file.split === split).reduce((sum, file) => sum + file.records, 0);
  const rows = { train: countOf('train'), test: countOf('test') };
  const splits = (['train', 'test'] as const).map((split) => ({
    split,
    path: paths[split],
    files: spec.files.filter((file) => file.split === split),
  }));

  // A local source that is not there (or holds no CIFAR files) fails before a new data folder is
  // made: nothing to clean up, and nothing to race over with another prepare beside it.
  const names = spec.files.map((file) => file.name);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const early =
    !isUrl(source) &&
    !(await access(dataDir).then(
      () => true,
      () => false,
    ))
      ? await openSource(source, names, { timeoutMs })
      : undefined;
  return inClaimedFolder(dataDir, { ...options, purpose: 'prepare' }, async (claim) => {
    if (!options.force) {
      const found = await Promise.all(
        splits.map(({ path, files }) =>
          preparedState(
            path,
            Object.fromEntries(files.map((file) => [file.name, file.sha256])),
            files.reduce((sum, file) => sum + file.records, 0),
            spec.classes,
          ),
        ),
      );
      if (found.every((state) => state === 'prepared'))
        return { ...paths, rows, skipped: true, source: isUrl(source) ? source : resolve(source) };
      // A file we did not write (or a damaged one) is the user's: say what is wrong, never replace it.
      const foreign = found.findIndex((state) => typeof state === 'object');
      if (foreign >= 0) {
        const { problem } = found[foreign] as { problem: string };
        throw new DatasetError(splits[foreign]!.path, `${problem}; left as it is (move it away, or prepare with force to replace it)`);
      }
    }

    // On failure the data folder is left as it was: without our temporary files, and gone if we made it (and it is empty).
    const outputs = splits.map(({ path, files }) => ({
      path,
      files,
      writer: undefined as AtomicArrowFile | undefined,
      written: 0,
      pending: new Map<string, BinaryRecordDecoder>(),
    }));
    // The schema records every raw file's sha256: a file without a published one is hashed first.
    const hashes = new Map<string, string>(spec.files.flatMap((file) => (file.sha256 ? [[file.name, file.sha256] as const] : [])));
    const writerOf = (output: (typeof outputs)[number]): AtomicArrowFile | undefined => {
      if (output.writer || !output.files.every((file) => hashes.has(file.name))) return output.writer;
      const rows = output.files.reduce((sum, file) => sum + file.records, 0);
      const sources = Object.fromEntries(output.files.map((file) => [file.name, hashes.get(file.name)!]));
      output.writer = new AtomicArrowFile(
        output.path,
        imageDatasetSchema({ classes: spec.classes, shape: spec.shape, rows, sources }),
        claim,
      );
      return output.writer;
    };

    let opened: OpenedSource;
    try {
      opened = early ?? (await openSource(source, names, { timeoutMs }));
      const seen = new Set<string>();
      const report = (bytes: number): void => options.onProgress?.({ kind: opened.kind, bytes, totalBytes: opened.totalBytes });
      for await (const raw of opened.files(report)) {
        const file = spec.files.find((candidate) => candidate.name === raw.name);
        if (!file || seen.has(file.name)) continue;
        seen.add(file.name);
        const output = outputs.find((candidate) => candidate.files.includes(file))!;
        const { decoder, sha256 } = await decodeVerified(raw, file, spec, opened.label);
        output.pending.set(file.name, decoder);
        hashes.set(file.name, sha256);
        // Rows keep the spec's order even when the archive stores the files in another.
        for (
          let next = output.files[output.written], writer = writerOf(output);
          next && writer && output.pending.has(next.name);
          next = output.files[output.written]
        ) {
          const decoded = output.pending.get(next.name)!;
          output.pending.delete(next.name);
          writer.write(imageRecordBatch(writer.schema, decoded.pixels, decoded.labels));
          output.written++;
        }
      }
      const missing = spec.files.filter((file) => !seen.has(file.name)).map((file) => file.name);
      if (missing.length > 0) throw new DatasetError(opened.label, `lacks ${missing.join(', ')}`);
      // Both files whole on disk before either is renamed: never a new train.arrow beside an old test.arrow.
      await Promise.all(outputs.map((output) => output.writer!.finish()));
      for (const output of outputs) await output.writer!.commit();
    } catch (error) {
      await Promise.all(outputs.map((output) => output.writer?.abort()));
      const pixels = spec.shape.reduce((a, b) => a * b, 1);
      throw await asOutOfSpace(error, {
        folder: dataDir,
        what: `writing ${DATA_SPLITS.map(DataFolder.fileName).join(' and ')}`,
        neededBytes: spec.files.reduce((sum, file) => sum + file.records * (pixels + 1), 0),
      });
    }
    return { ...paths, rows, skipped: false, source: opened.label };
  });
}

async function decodeVerified(
  raw: RawFile,
  file: RawFileSpec,
  spec: BinaryDatasetSpec,
  sourceLabel: string,
): Promise<{ decoder: BinaryRecordDecoder; sha256: string }> {
  const where = `${sourceLabel} (${file.name})`;
  const decoder = new BinaryRecordDecoder(file, spec);
  const sizeProblem = decoder.checkSize(raw.size);
  if (sizeProblem) throw new DatasetError(where, sizeProblem);
  const hash = createHash('sha256');
  for await (const chunk of raw.content) {
    hash.update(chunk);
    const problem = decoder.push(chunk);
    if (problem) throw new DatasetError(where, problem);
  }
  const problem = decoder.finish();
  if (problem) throw new DatasetError(where, problem);
  const sha256 = hash.digest('hex');
  if (file.sha256 !== undefined && sha256 !== file.sha256) {
    throw new DatasetError(where, `checksum mismatch: sha256 ${sha256}, expected ${file.sha256}`);
  }
  return { decoder, sha256 };
}
