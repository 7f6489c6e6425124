import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import type { BinaryDatasetSpec, RawFileSpec } from '../src/index.js';

/** A tiny CIFAR-shaped dataset: 2×2 RGB images, ten classes, two train files and one test file. */
export const SHAPE = [2, 2, 3] as const;
export const PIXELS = 12;
export const CLASSES = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8', 'c9'];
const FILES = [
  { name: 'data_batch_1.bin', split: 'train', records: 6 },
  { name: 'data_batch_2.bin', split: 'train', records: 4 },
  { name: 'test_batch.bin', split: 'test', records: 5 },
] as const;

export interface RawRecord {
  readonly label: number;
  /** HWC, as the prepared file must hold it. */
  readonly hwc: Uint8Array;
}

/** Record r of file f: label and pixels derived from (f, r), so every pixel says where it came from. */
export function fixtureRecord(fileIndex: number, record: number): RawRecord {
  const hwc = new Uint8Array(PIXELS);
  for (let i = 0; i < PIXELS; i++) hwc[i] = (fileIndex * 64 + record * 12 + i) % 256;
  return { label: (fileIndex * 3 + record) % 10, hwc };
}

/** Encodes records in the raw layout: a label byte, then the R plane, G plane and B plane. */
export function encodeRecords(records: readonly RawRecord[]): Uint8Array {
  const out = new Uint8Array(records.length * (1 + PIXELS));
  records.forEach((record, r) => {
    const base = r * (1 + PIXELS);
    out[base] = record.label;
    for (let p = 0; p < 4; p++) {
      for (let c = 0; c < 3; c++) out[base + 1 + c * 4 + p] = record.hwc[p * 3 + c]!;
    }
  });
  return out;
}

export interface Fixture {
  readonly dir: string;
  readonly spec: BinaryDatasetSpec;
  /** Raw bytes of each file, by name. */
  readonly raw: Map<string, Uint8Array>;
  /** The records of each split in prepared row order. */
  readonly rows: { train: RawRecord[]; test: RawRecord[] };
  readonly cleanup: () => Promise<void>;
}

export async function makeFixture(): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'rxvision-dataset-'));
  const raw = new Map<string, Uint8Array>();
  const rows = { train: [] as RawRecord[], test: [] as RawRecord[] };
  const files: RawFileSpec[] = FILES.map((file, f) => {
    const records = Array.from({ length: file.records }, (_, r) => fixtureRecord(f, r));
    rows[file.split].push(...records);
    const bytes = encodeRecords(records);
    raw.set(file.name, bytes);
    return { ...file, sha256: sha256(bytes) };
  });
  return {
    dir,
    spec: { classes: CLASSES, shape: SHAPE, files },
    raw,
    rows,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Writes a gzipped tar of `entries` (in the given order) under `cifar-10-batches-bin/`. */
export async function writeTarball(path: string, entries: ReadonlyArray<readonly [string, Uint8Array]>): Promise<string> {
  const archive = pack();
  archive.entry({ name: 'cifar-10-batches-bin/', type: 'directory' });
  for (const [name, bytes] of entries) archive.entry({ name: `cifar-10-batches-bin/${name}` }, Buffer.from(bytes));
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  await writeFile(path, gzipSync(Buffer.concat(chunks)));
  return path;
}

export async function writeFolder(path: string, entries: ReadonlyArray<readonly [string, Uint8Array]>): Promise<string> {
  await mkdir(path, { recursive: true });
  for (const [name, bytes] of entries) await writeFile(join(path, name), bytes);
  return path;
}

/** Everything in a folder, so tests can assert that a failed prepare left nothing behind. */
export async function listFiles(path: string): Promise<string[]> {
  return (await readdir(path).catch(() => [] as string[])).sort();
}
