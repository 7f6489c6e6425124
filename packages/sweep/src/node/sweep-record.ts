import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SWEEP_FILES } from '@rxvision/run-folder';
import type { SchedulerSpec } from '../sweep-file.js';

/** A trial's state as the sweep command last recorded it. */
export interface RecordedTrialState {
  readonly state: 'running' | 'queued' | 'finished' | 'failed';
  readonly reason?: string;
}

/**
 * What a sweep folder's `sweep.json` holds: the sweep file, its queue, its trials in order (the
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

/** The sweep folder's record, or undefined when `folder` holds none (a sweep *file* may be called sweep.json too). */
export async function readSweepRecord(folder: string): Promise<SweepRecord | undefined> {
  let record: Partial<SweepRecord>;
  try {
    record = JSON.parse(await readFile(join(folder, SWEEP_FILES.record), 'utf8')) as Partial<SweepRecord>;
  } catch {
    return undefined;
  }
  return Array.isArray(record?.trials) && typeof record.states === 'object' && record.states !== null ? (record as SweepRecord) : undefined;
}
