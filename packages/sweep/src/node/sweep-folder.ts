import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FolderClaim } from '@rxvision/folder';
import { RunFolder, SWEEP_FILES, sweepTrialFile, writeJson } from '@rxvision/run-folder';
import type { SchedulerSpec } from '../sweep-file.js';
import type { TrialJob } from './trial-job.js';

/** A trial's state as the sweep command last recorded it. */
export interface RecordedTrialState {
  readonly state: 'running' | 'queued' | 'finished' | 'failed';
  readonly reason?: string;
}

/**
 * What a sweep folder's record holds: the sweep file, its queue, its trials in order (the
 * scheduler compares each with those before it) with their settings and most epochs, its scheduler,
 * and the trials' states as the sweep command saw them.
 */
export interface SweepRecord {
  readonly source: string;
  /** The Redis URL its trials were queued at (without its password), for a queued sweep. */
  readonly queue?: string;
  readonly trials: readonly { readonly name: string; readonly settings: Readonly<Record<string, unknown>>; readonly epochs?: number }[];
  readonly scheduler?: SchedulerSpec;
  readonly states: Record<string, RecordedTrialState>;
}

/**
 * A sweep folder: its record, each trial's experiment file and run folder (a RunFolder beside the
 * record), and the chart of their curves. The sweep command, `sweep status`, the scheduler and the
 * workers ask it; the names come from @rxvision/run-folder's SWEEP_FILES.
 */
export class SweepFolder {
  readonly path: string;

  constructor(path: string) {
    this.path = resolve(path);
  }

  get recordFile(): string {
    return join(this.path, SWEEP_FILES.record);
  }

  get comparisonFile(): string {
    return join(this.path, SWEEP_FILES.comparison);
  }

  /** The experiment file of a trial. */
  trialExperimentFile(trial: string): string {
    return sweepTrialFile(this.path, trial);
  }

  /** A trial's run folder. */
  trial(trial: string): RunFolder {
    return new RunFolder(join(this.path, trial));
  }

  /** A trial as files, for a worker: its experiment and its run folder. */
  trialJob(trial: string): TrialJob {
    return { sweep: this.path, trial, experiment: this.trialExperimentFile(trial), runDir: this.trial(trial).path };
  }

  /** The record, or undefined when there is none or it is not one (a sweep *file* may be called sweep.json too). */
  async readRecord(): Promise<SweepRecord | undefined> {
    let record: Partial<SweepRecord>;
    try {
      record = JSON.parse(await readFile(this.recordFile, 'utf8')) as Partial<SweepRecord>;
    } catch {
      return undefined;
    }
    const valid = Array.isArray(record?.trials) && typeof record.states === 'object' && record.states !== null;
    return valid ? (record as SweepRecord) : undefined;
  }
}

/** A sweep folder this process holds: its writes go through the claim, whole or not at all. */
export class ClaimedSweepFolder extends SweepFolder {
  constructor(readonly claim: FolderClaim) {
    super(claim.folder);
  }

  writeRecord(record: SweepRecord): Promise<void> {
    return writeJson(this.claim, this.recordFile, record);
  }

  async writeTrialExperiments(trials: readonly { name: string; experiment: unknown }[]): Promise<void> {
    await mkdir(join(this.path, SWEEP_FILES.trials), { recursive: true });
    for (const { name, experiment } of trials) await writeJson(this.claim, this.trialExperimentFile(name), experiment);
  }

  /** The chart of the trials' curves, as PNG bytes. */
  writeComparison(png: Uint8Array): Promise<void> {
    return this.claim.writeFile(this.comparisonFile, png);
  }
}
