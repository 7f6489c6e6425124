// The sweep folder as the sweep command's subcommands share it: found, held, drawn.
import { readFile } from 'node:fs/promises';
import { parseJsonText } from '@rxvision/experiment';
import type { EpochRecord } from '@rxvision/metrics';
import { comparisonChart } from '@rxvision/plot';
import type { RunFolder } from '@rxvision/run-folder';
import { SWEEP_FILES } from '@rxvision/run-folder';
import { renderPng } from '@rxvision/plot/node';
import { ClaimedSweepFolder, SweepFolder, type SweepRecord } from '@rxvision/sweep/node';
import { CliError } from '../cli-error.js';
import { claimFolder, FolderHeldError } from '@rxvision/folder';

/** A sweep folder and its record; the recorded queue has no password: `queue` (or REDISCLI_AUTH) gives it. */
export async function sweepFolder(dir: string, queue: string | undefined): Promise<{ folder: SweepFolder; record: SweepRecord }> {
  const folder = new SweepFolder(dir);
  const stored = await folder.readRecord();
  if (!stored) throw new CliError(`${folder.path}: not a sweep folder (no ${SWEEP_FILES.record})`);
  return { folder, record: { ...stored, ...(stored.queue !== undefined && queue !== undefined && { queue }) } };
}

/** Draws the trials' curves so far into the sweep's comparison chart; false when no trial has an epoch yet. */
export async function drawComparison(folder: ClaimedSweepFolder, names: readonly string[]): Promise<boolean> {
  const histories = await Promise.all(names.map(async (name) => ({ name, history: await historyOf(folder.trial(name)) })));
  const drawn = histories.filter((run) => run.history.length > 0);
  if (drawn.length > 0) await folder.writeComparison(await renderPng(comparisonChart(drawn)));
  return drawn.length > 0;
}

/** `write` holding the sweep folder's claim; undefined (nothing written) while a running sweep holds it. */
export async function whileHeld<T>(
  folder: SweepFolder,
  purpose: string,
  write: (held: ClaimedSweepFolder) => Promise<T>,
): Promise<T | undefined> {
  const claim = await claimFolder(folder.path, { purpose }).catch((error: unknown) => {
    if (error instanceof FolderHeldError) return undefined;
    throw error;
  });
  if (!claim) return undefined;
  try {
    return await write(new ClaimedSweepFolder(claim));
  } finally {
    await claim.release();
  }
}

/** A queued sweep's trials as the queue knows them: each job and the experiment its id derives from. */
export const queuedJobs = (folder: SweepFolder, record: SweepRecord) =>
  Promise.all(
    record.trials.map(async ({ name }) => ({ job: folder.trialJob(name), experiment: await readJson(folder.trialExperimentFile(name)) })),
  );
export const withoutStop = (error: unknown) => (error as Error).message.replace(/\.$/, '');

export async function readJson(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new CliError(`${path}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  });
  return parseJsonText(text, path);
}

/** A trial's history so far: none while it has not started, or when its file cannot be read. */
export const historyOf = (run: RunFolder): Promise<EpochRecord[]> => run.readHistory().catch(() => []);
