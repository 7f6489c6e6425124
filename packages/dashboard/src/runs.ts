import type { EpochRecord } from '@rxvision/metrics';
import { CLAIM_FILE } from '@rxvision/folder';
import { historyProblem, RUN_FILES, RunFolder, type RunProgress, type RunStatus, type StepSeries, statusOf } from '@rxvision/run-folder';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isSweep, UnservedRunFile, readRunFile, runFolder } from './run-path.js';

/** A run as the list shows it. Problems with its files are reported, never thrown. */
export interface RunInfo {
  /** The folder's name, or `SWEEP/TRIAL` for a trial of a sweep folder. */
  readonly name: string;
  /** For a trial: its sweep's folder name. */
  readonly sweep?: string;
  /** Where it stands, by @rxvision/run-folder's one rule. */
  readonly status: RunStatus;
  /** While running: where it is (progress.json), without the per-step series. */
  readonly progress?: Omit<RunProgress, 'steps'>;
  /** When failed: the line that says why. */
  readonly failure?: string;
  /** Why a finished run ended before its schedule did (summary.json's `ended`): `scheduler` (a sweep's ASHA or median rule), `early-stopping`, `time-budget`. */
  readonly ended?: string;
  readonly description?: string;
  readonly model?: string;
  readonly dataset?: string;
  readonly epochs: number;
  readonly last?: EpochRecord;
  readonly test?: { readonly accuracy: number; readonly loss: number };
  /** Files that could not be read or parsed, each in one line. */
  readonly problems: readonly string[];
  /** Last change of history.json (ms since 1970), for ordering. */
  readonly updated: number;
}

export interface RunDetails extends RunInfo {
  readonly experiment?: unknown;
  readonly summary?: unknown;
  readonly history: readonly EpochRecord[];
  /** Per-step loss and learning rate, thinned (progress.json), when the run wrote them. */
  readonly steps?: StepSeries;
}

/** The files a run folder may hold that the page may show. */
export { RUN_PICTURES } from '@rxvision/run-folder';

/**
 * Every folder of `root` that looks like a run (has experiment.json, history.json or summary.json),
 * and every such folder of a sweep folder of `root` (one with sweep.json), named `SWEEP/TRIAL`.
 */
export async function listRuns(root: string): Promise<RunInfo[]> {
  const names = (
    await Promise.all(
      (await folders(root)).map(async (name) =>
        (await isSweep(join(root, name))) ? (await folders(join(root, name))).map((trial) => `${name}/${trial}`) : [name],
      ),
    )
  ).flat();
  const runs = await Promise.all(names.map((name) => readRun(root, name).catch(() => undefined)));
  return runs
    .filter((run): run is RunDetails => run !== undefined && looksLikeRun(run))
    .map(runInfo)
    .sort((a, b) => b.updated - a.updated || a.name.localeCompare(b.name));
}

/** A run as the list shows it: its details without the files' contents. */
export function runInfo({ experiment: _e, summary: _s, history: _h, steps: _steps, ...info }: RunDetails): RunInfo {
  return info;
}

/** Whether a folder's files make it a run: any of its files, even a damaged one. */
export function looksLikeRun(run: RunDetails): boolean {
  return run.experiment !== undefined || run.summary !== undefined || run.history.length > 0 || run.problems.length > 0;
}

/** One run's files, read fresh; undefined when there is no such run. */
export async function readRun(root: string, name: string): Promise<RunDetails | undefined> {
  const folder = await runFolder(root, name);
  if (!folder) return undefined;
  const problems: string[] = [];
  const json = async (file: string): Promise<unknown> => {
    let text: string;
    try {
      const bytes = await readRunFile(folder, file);
      if (bytes === undefined) return undefined;
      text = bytes.toString('utf8');
    } catch (error) {
      problems.push(
        error instanceof UnservedRunFile ? `${file}: not read: ${error.message}` : `${file}: cannot be read (${(error as Error).message})`,
      );
      return undefined;
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      problems.push(`${file}: not valid JSON (${(error as Error).message})`);
      return undefined;
    }
  };
  const [experiment, summary, rawHistory, rawProgress, rawFailure] = await Promise.all([
    json(RUN_FILES.experiment),
    json(RUN_FILES.summary),
    json(RUN_FILES.history),
    json(RUN_FILES.progress),
    json(RUN_FILES.failure),
  ]);
  const { steps, ...progress } = (isProgress(rawProgress) ? rawProgress : {}) as Partial<RunProgress>;
  const failure = (rawFailure as { message?: unknown } | undefined)?.message;
  // A claim file that is none (a FIFO, 3 GB, a folder) is a problem of this run, not of the listing.
  const run = new RunFolder(folder);
  const held = await run.isHeld().catch((error: unknown) => void problems.push(`${CLAIM_FILE}: ${(error as Error).message}`));
  const status = statusOf({
    finished: summary !== undefined,
    held: held === true,
    failed: typeof failure === 'string',
    checkpointed: await run.hasCheckpoint(),
  });
  // Checked as every reader checks it: a figure out of range or not finite is damage, never charted.
  const damage = rawHistory === undefined ? undefined : historyProblem(rawHistory);
  if (damage) problems.push(`${RUN_FILES.history}: ${damage}`);
  const history = rawHistory === undefined || damage ? [] : (rawHistory as EpochRecord[]);
  const updated = await lstat(run.file('history')).then(
    (s) => s.mtimeMs,
    () => 0,
  );
  const settings = (experiment ?? {}) as { description?: unknown; model?: { type?: unknown }; dataset?: { type?: unknown } };
  const test = (summary as { test?: { accuracy?: unknown; loss?: unknown } } | undefined)?.test;
  const architecture = (summary as { architecture?: unknown } | undefined)?.architecture;
  const ended = (summary as { ended?: unknown } | undefined)?.ended;
  const [sweep, trial] = name.split('/');
  return {
    name,
    ...(trial !== undefined && { sweep }),
    status,
    ...(status === 'running' && progress.epoch !== undefined && { progress: progress as Omit<RunProgress, 'steps'> }),
    ...(status === 'failed' && { failure: failure as string }),
    ...(steps && { steps }),
    ...(typeof ended === 'string' && { ended }),
    ...(typeof settings.description === 'string' && { description: settings.description }),
    ...(typeof architecture === 'string'
      ? { model: architecture }
      : typeof settings.model?.type === 'string' && { model: settings.model.type }),
    ...(typeof settings.dataset?.type === 'string' && { dataset: settings.dataset.type }),
    epochs: history.length,
    ...(history.length > 0 && { last: history.at(-1) }),
    ...(typeof test?.accuracy === 'number' && typeof test.loss === 'number' && { test: { accuracy: test.accuracy, loss: test.loss } }),
    problems,
    updated,
    experiment,
    summary,
    history,
  };
}

async function folders(path: string): Promise<string[]> {
  const entries = await readdir(path, { withFileTypes: true }).catch(() => []);
  // Every name runFolder serves (`..foo` too): what the list leaves out is only what is no run.
  return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
}

/** Whether a live process writes the run folder now: its claim is a regular file, fresh, its holder not provably dead. */
function isProgress(value: unknown): value is RunProgress {
  const v = value as Partial<RunProgress> | undefined;
  return (
    typeof v?.epoch === 'number' && typeof v.step === 'number' && typeof v.stepsPerEpoch === 'number' && typeof v.secondsLeft === 'number'
  );
}
