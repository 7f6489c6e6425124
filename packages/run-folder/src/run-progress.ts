import type { FolderClaim } from '@rxvision/folder';
import { readFile } from 'node:fs/promises';
import { runFile } from './run-files.js';
import { writeJson } from './write-run.js';

/** Per-step figures of a run, every `stride`-th step (counted over the whole run, from 1). */
export interface StepSeries {
  readonly stride: number;
  readonly step: readonly number[];
  readonly loss: readonly number[];
  readonly learningRate: readonly number[];
}

/** Where a training run is, as it rewrites progress.json every few seconds. */
export interface RunProgress {
  readonly epoch: number;
  readonly epochs: number;
  /** Steps done in `epoch`. */
  readonly step: number;
  readonly stepsPerEpoch: number;
  /** Over the current epoch so far. */
  readonly samplesPerSecond: number;
  /** Until the schedule's last epoch ends, at the pace so far (validation included once an epoch has ended). */
  readonly secondsLeft: number;
  /** ISO time of this write. */
  readonly updated: string;
  readonly steps: StepSeries;
}

/** Why a run failed, in one line. */
export interface RunFailure {
  readonly message: string;
  /** ISO time it failed. */
  readonly at: string;
}

export function writeProgress(claim: FolderClaim, progress: RunProgress): Promise<void> {
  return writeJson(claim, runFile(claim.folder, 'progress'), progress);
}

export function writeFailure(claim: FolderClaim, message: string): Promise<void> {
  return writeJson(claim, runFile(claim.folder, 'failure'), { message, at: new Date().toISOString() } satisfies RunFailure);
}

/** The run's progress.json, or undefined when it has none or it cannot be read (it is only a hint). */
export function readProgress(run: string): Promise<RunProgress | undefined> {
  return readHint<RunProgress>(
    runFile(run, 'progress'),
    (value) => typeof value.epoch === 'number' && typeof value.step === 'number' && typeof value.steps === 'object',
  );
}

/** The run's failure.json, or undefined. */
export function readFailure(run: string): Promise<RunFailure | undefined> {
  return readHint<RunFailure>(runFile(run, 'failure'), (value) => typeof value.message === 'string');
}

async function readHint<T>(path: string, ok: (value: Record<string, unknown>) => boolean): Promise<T | undefined> {
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    return value !== null && typeof value === 'object' && ok(value) ? (value as T) : undefined;
  } catch {
    return undefined;
  }
}
