import type { FolderClaim } from '@rxvision/folder';
import type { History } from '@rxvision/metrics';
import { runFile } from './run-files.js';
import { type RunSummary, SUMMARY_FORMAT } from './run-summary.js';

/** JSON as people read it (indented, a newline at the end), written whole through the folder's claim: a run's or a sweep's. */
export function writeJson(claim: FolderClaim, path: string, value: unknown): Promise<void> {
  return claim.writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** The experiment as the run starts it, into the run folder `claim` holds. */
export function writeRunExperiment(claim: FolderClaim, experiment: unknown): Promise<void> {
  return writeJson(claim, runFile(claim.folder, 'experiment'), experiment);
}

/** The history so far, whole: readers never see half of it. */
export function writeHistory(claim: FolderClaim, history: History): Promise<void> {
  return writeJson(claim, runFile(claim.folder, 'history'), history);
}

/** The summary of the finished run, with the format it is written in. */
export function writeSummary(claim: FolderClaim, summary: Omit<RunSummary, 'format'>): Promise<void> {
  return writeJson(claim, runFile(claim.folder, 'summary'), { format: SUMMARY_FORMAT, ...summary });
}
