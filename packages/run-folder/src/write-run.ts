import type { FolderClaim } from '@rxvision/folder';
import type { History } from '@rxvision/metrics';
import { runFile } from './run-files.js';
import { type RunSummary, SUMMARY_FORMAT } from './run-summary.js';

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** The experiment as the run starts it, into the run folder `claim` holds. */
export function writeRunExperiment(claim: FolderClaim, experiment: unknown): Promise<void> {
  return claim.writeFile(runFile(claim.folder, 'experiment'), json(experiment));
}

/** The history so far, whole: readers never see half of it. */
export function writeHistory(claim: FolderClaim, history: History): Promise<void> {
  return claim.writeFile(runFile(claim.folder, 'history'), json(history));
}

/** The summary of the finished run, with the format it is written in. */
export function writeSummary(claim: FolderClaim, summary: Omit<RunSummary, 'format'>): Promise<void> {
  return claim.writeFile(runFile(claim.folder, 'summary'), json({ format: SUMMARY_FORMAT, ...summary }));
}
