import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { CLAIM_FILE, folderWriter } from '@rxvision/folder';
import { readSummary } from './read-run.js';
import { runFile } from './run-files.js';
import { readFailure } from './run-progress.js';

/**
 * Where a run stands: `finished` once its summary is written; `running` while a live process holds
 * its folder (its claim, see @rxvision/folder); `failed` when it wrote why; `stopped` when it left a
 * checkpoint to resume from; `unfinished` otherwise (killed before its first checkpoint).
 */
export type RunStatus = 'finished' | 'running' | 'failed' | 'stopped' | 'unfinished';

/** What a run's status follows from: a reader that read these files already gives them. */
export interface RunStatusFacts {
  readonly finished: boolean;
  readonly held: boolean;
  readonly failed: boolean;
  readonly checkpointed: boolean;
}

/** The one rule, for the dashboard, `sweep status` and whatever else shows runs. */
export function statusOf({ finished, held, failed, checkpointed }: RunStatusFacts): RunStatus {
  if (finished) return 'finished';
  if (held) return 'running';
  if (failed) return 'failed';
  return checkpointed ? 'stopped' : 'unfinished';
}

/**
 * Whether a live process holds the run's folder. Rejects when its claim file is none (a FIFO, a
 * folder, 3 GB): a problem of this run for the caller to show.
 */
export async function isHeld(run: string): Promise<boolean> {
  const claim = await lstat(join(run, CLAIM_FILE)).catch(() => undefined);
  return claim?.isFile() === true && (await folderWriter(run))?.live === true;
}

/** Whether the run left a checkpoint to resume from. */
export function hasCheckpoint(run: string): Promise<boolean> {
  return lstat(runFile(run, 'checkpoint')).then(
    () => true,
    () => false,
  );
}

/**
 * Where the run in folder `run` stands, read from its files; damaged ones count as absent.
 * `finished`: whether its summary is written, for a caller that has read it already.
 */
export async function runStatus(run: string, finished?: boolean): Promise<RunStatus> {
  const [written, held, failure, checkpointed] = await Promise.all([
    finished ??
      readSummary(run).then(
        (summary) => summary !== undefined,
        () => false,
      ),
    isHeld(run).catch(() => false),
    readFailure(run),
    hasCheckpoint(run),
  ]);
  return statusOf({ finished: written, held, failed: failure !== undefined, checkpointed });
}
