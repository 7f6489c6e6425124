import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { FolderClaim } from '@rxvision/folder';
import type { EpochRecord, History } from '@rxvision/metrics';
import { isFinished, readHistory, readRunExperiment, readSummary } from './read-run.js';
import { type RUN_FILES, runFile } from './run-files.js';
import { readFailure, readProgress, type RunFailure, type RunProgress, writeFailure, writeProgress } from './run-progress.js';
import { hasCheckpoint, isHeld, runStatus, type RunStatus } from './run-status.js';
import type { RunSummary } from './run-summary.js';
import { writeHistory, writeRunExperiment, writeSummary } from './write-run.js';

/**
 * A run folder: its files by what they hold, its reads (each validated; a damaged file is a
 * RunFileError naming it) and where it stands. What shows runs (the dashboard, `sweep status`,
 * compare) asks this rather than naming a file.
 */
export class RunFolder {
  readonly path: string;

  constructor(path: string) {
    this.path = resolve(path);
  }

  /** The path of one of its files (or folders: the model, the checkpoint). */
  file(name: keyof typeof RUN_FILES): string {
    return runFile(this.path, name);
  }

  /** The experiment it was started with (validate it with @rxvision/experiment), or undefined. */
  readExperiment(): Promise<unknown> {
    return readRunExperiment(this.path);
  }

  /** Its epoch records so far: none while it has not trained an epoch. */
  readHistory(): Promise<EpochRecord[]> {
    return readHistory(this.path);
  }

  /** Its summary, or undefined while it is not finished. */
  readSummary(): Promise<RunSummary | undefined> {
    return readSummary(this.path);
  }

  /** Where it is while it trains, or undefined; a damaged file counts as none. */
  readProgress(): Promise<RunProgress | undefined> {
    return readProgress(this.path);
  }

  /** Why it failed, or undefined. */
  readFailure(): Promise<RunFailure | undefined> {
    return readFailure(this.path);
  }

  /** Whether it finished: its summary is written (not read: see readSummary). */
  isFinished(): Promise<boolean> {
    return isFinished(this.path);
  }

  /** Whether a live process holds it. */
  isHeld(): Promise<boolean> {
    return isHeld(this.path);
  }

  /** Whether it left a checkpoint to resume from. */
  hasCheckpoint(): Promise<boolean> {
    return hasCheckpoint(this.path);
  }

  /** Where it stands, by the one rule (`statusOf`); `finished` for a caller that read the summary already. */
  status(finished?: boolean): Promise<RunStatus> {
    return runStatus(this.path, finished);
  }
}

/** A run folder this process holds: its writes go through the claim, whole or not at all. */
export class ClaimedRunFolder extends RunFolder {
  constructor(readonly claim: FolderClaim) {
    super(claim.folder);
  }

  /** One of its files whole, through the claim: a chart, the ONNX model. */
  writeFile(name: keyof typeof RUN_FILES, data: string | Uint8Array): Promise<void> {
    return this.claim.writeFile(this.file(name), data);
  }

  writeExperiment(experiment: unknown): Promise<void> {
    return writeRunExperiment(this.claim, experiment);
  }

  writeHistory(history: History): Promise<void> {
    return writeHistory(this.claim, history);
  }

  writeSummary(summary: Omit<RunSummary, 'format'>): Promise<void> {
    return writeSummary(this.claim, summary);
  }

  writeProgress(progress: RunProgress): Promise<void> {
    return writeProgress(this.claim, progress);
  }

  writeFailure(message: string): Promise<void> {
    return writeFailure(this.claim, message);
  }

  /** Forgets an earlier attempt's failure: this one trains afresh. */
  clearFailure(): Promise<void> {
    return rm(this.file('failure'), { force: true });
  }
}
