import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { CIFAR10_URL } from '../cifar10.js';
import { DatasetError } from '../errors.js';
import { findRawFolder, folderFiles, folderSize, type OnBytes, type RawFile, tarballFiles } from './raw-files.js';

/** The one setting that points rxvision at a CIFAR-10 copy: a URL, a `.tar.gz` or a folder. */
export const CIFAR10_SOURCE_VARIABLE = 'RXVISION_CIFAR10_SOURCE';

export function defaultCifar10Source(): string {
  return process.env[CIFAR10_SOURCE_VARIABLE] || CIFAR10_URL;
}

export function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

export type SourceKind = 'download' | 'tarball' | 'folder';

export interface OpenedSource {
  readonly kind: SourceKind;
  /** How the source is named in messages: the URL, or the absolute path. */
  readonly label: string;
  /** Bytes to read in all, when known (a download without Content-Length has none). */
  readonly totalBytes: number | undefined;
  files(onBytes: OnBytes): AsyncGenerator<RawFile>;
}

export interface OpenOptions {
  /** A download fails when it sends nothing for this long: no answer to the request, or a stalled body. */
  readonly timeoutMs: number;
}

export async function openSource(source: string, names: readonly string[], options: OpenOptions): Promise<OpenedSource> {
  if (isUrl(source)) return openDownload(source, options.timeoutMs);
  const path = resolve(source);
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new DatasetError(path, 'does not exist (expected a .tar.gz file, a cifar-10-batches-bin folder or a URL)');
  if (info.isDirectory()) {
    const root = await findRawFolder(path, names);
    return {
      kind: 'folder',
      label: path,
      totalBytes: await folderSize(root, names),
      files: (onBytes) => folderFiles(root, names, onBytes),
    };
  }
  return {
    kind: 'tarball',
    label: path,
    totalBytes: info.size,
    files: (onBytes) => tarballFiles(createReadStream(path), path, onBytes),
  };
}

async function openDownload(url: string, timeoutMs: number): Promise<OpenedSource> {
  // One idle timer for the whole download: started with the request, restarted by every chunk.
  const controller = new AbortController();
  const stalled = new DatasetError(
    url,
    `sent nothing for ${timeoutMs / 1000} s; check the address and the network, or pass a local .tar.gz or folder`,
  );
  const timer = setTimeout(() => controller.abort(stalled), timeoutMs);
  let response: Response;
  try {
    response = await fetch(url, { signal: controller.signal });
  } catch (error) {
    clearTimeout(timer);
    if (error === stalled) throw stalled;
    const cause = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
    throw new DatasetError(url, `could not be downloaded (${cause}); pass a local .tar.gz or folder instead`, { cause: error });
  }
  if (!response.ok || !response.body) {
    clearTimeout(timer);
    await response.body?.cancel();
    throw new DatasetError(url, `could not be downloaded: HTTP ${response.status} ${response.statusText}`.trimEnd());
  }
  const length = Number(response.headers.get('content-length'));
  const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  body.on('data', () => timer.refresh()).on('close', () => clearTimeout(timer));
  return {
    kind: 'download',
    label: url,
    totalBytes: Number.isFinite(length) && length > 0 ? length : undefined,
    files: (onBytes) => tarballFiles(body, url, onBytes),
  };
}
