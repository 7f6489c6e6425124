// The sweep folder as the sweep command's subcommands share it: its record, its trials' files, its chart.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseJsonText } from '@rxvision/experiment';
import type { EpochRecord } from '@rxvision/metrics';
import { comparisonChart } from '@rxvision/plot';
import { readHistory, SWEEP_FILES, sweepTrialFile } from '@rxvision/run-folder';
import { renderPng } from '@rxvision/plot/node';
import { readSweepRecord, type SweepRecord, type TrialJob } from '@rxvision/sweep/node';
import { CliError } from '../cli-error.js';
import { claimFolder, type FolderClaim, FolderHeldError } from '@rxvision/folder';

/** A sweep folder's record; the recorded queue has no password: `queue` (or REDISCLI_AUTH) gives it. */
export async function sweepFolder(dir: string, queue: string | undefined): Promise<{ out: string; record: SweepRecord }> {
  const out = resolve(dir);
  const stored = await readSweepRecord(out);
  if (!stored) throw new CliError(`${out}: not a sweep folder (no ${SWEEP_FILES.record})`);
  return { out, record: { ...stored, ...(stored.queue !== undefined && queue !== undefined && { queue }) } };
}

/** Draws the trials' curves so far into comparison.png; false when no trial has an epoch yet. */
export async function drawComparison(claim: FolderClaim, names: readonly string[]): Promise<boolean> {
  const histories = await Promise.all(names.map(async (name) => ({ name, history: await historyOf(join(claim.folder, name)) })));
  const drawn = histories.filter((run) => run.history.length > 0);
  if (drawn.length > 0) await claim.writeFile(join(claim.folder, SWEEP_FILES.comparison), await renderPng(comparisonChart(drawn)));
  return drawn.length > 0;
}

/** `write` holding the sweep folder's claim; undefined (nothing written) while a running sweep holds it. */
export async function whileHeld<T>(out: string, purpose: string, write: (claim: FolderClaim) => Promise<T>): Promise<T | undefined> {
  const claim = await claimFolder(out, { purpose }).catch((error: unknown) => {
    if (error instanceof FolderHeldError) return undefined;
    throw error;
  });
  if (!claim) return undefined;
  try {
    return await write(claim);
  } finally {
    await claim.release();
  }
}

/** A queued sweep's trials as the queue knows them: each job and the experiment its id derives from. */
export const queuedJobs = (out: string, record: SweepRecord) =>
  Promise.all(record.trials.map(async ({ name }) => ({ job: trialJob(out, name), experiment: await readJson(sweepTrialFile(out, name)) })));
export const withoutStop = (error: unknown) => (error as Error).message.replace(/\.$/, '');

/** A trial of the sweep folder `out` as files: its experiment and its run folder. */
export const trialJob = (out: string, name: string): TrialJob => ({
  sweep: out,
  trial: name,
  experiment: sweepTrialFile(out, name),
  runDir: join(out, name),
});

export async function readJson(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new CliError(`${path}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  });
  return parseJsonText(text, path);
}

/** A trial's history so far: none while it has not started, or when its file cannot be read. */
export const historyOf = (runDir: string): Promise<EpochRecord[]> => readHistory(runDir).catch(() => []);
