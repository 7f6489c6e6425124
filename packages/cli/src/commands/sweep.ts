import { basename, dirname, join, resolve } from 'node:path';
import type { BackendChoice } from '@rxvision/backend/node';
import { absoluteDataset, absoluteModel } from '@rxvision/experiment';
import { SWEEP_FILES } from '@rxvision/run-folder';
import { describeSettings, expandTrials, parseSweep, runTrials, type SchedulerSpec, type Trial } from '@rxvision/sweep';
import { scheduleEpochs } from '@rxvision/train';
import {
  checkRedis,
  openTrialQueue,
  PAUSED_TRIAL_DELAY_MS,
  QueueUnreachableError,
  ClaimedSweepFolder,
  SweepFolder,
  type SweepRecord,
  TrialPausedError,
  withoutPassword,
} from '@rxvision/sweep/node';
import type { Command } from 'commander';
import { concatMap, filter, lastValueFrom, retry, tap, throwError, timer } from 'rxjs';
import { BACKEND_FLAG, BACKEND_HELP, backendChoice, THREADS_FLAG, THREADS_HELP, threadsChoice } from '../backend-option.js';
import { CliError } from '../cli-error.js';
import { positiveInteger } from '../integer-flag.js';
import { trialProcess } from '../trial-process.js';
import { claimFolder } from '@rxvision/folder';
import { cancelSweep } from './sweep-cancel.js';
import { drawComparison, readJson, sweepFolder, whileHeld } from './sweep-folder.js';
import { statusTable } from './sweep-status.js';

export interface SweepFlags {
  readonly out?: string;
  readonly concurrency?: string;
  readonly backend: string;
  readonly threads?: string;
  /** A Redis URL: the trials go to its queue, for `rxvision worker`s to run. */
  readonly queue?: string;
}

export function registerSweep(program: Command): void {
  const sweep = program
    .command('sweep')
    .description(
      "run a sweep's trials here or, with --queue, through a Redis queue by `rxvision worker`s (`rxvision sweep FILE` is `sweep run FILE`); `sweep status DIR` shows where it stands; `sweep cancel DIR` stops a queued sweep's unfinished trials",
    );
  sweep
    .command('run', { isDefault: true })
    .description(
      'run every trial of a sweep file on this machine (each a train run in its own process) or, with --queue, through a Redis queue by `rxvision worker`s',
    )
    .argument('<file>', 'a sweep file: a base experiment and the fields to vary')
    .option('--out <dir>', 'the sweep folder: one run folder per trial (default sweeps/<file name>)')
    .option('--concurrency <n>', "trials at once (default: the file's, else 1)")
    .option(BACKEND_FLAG, BACKEND_HELP, 'auto')
    .option(THREADS_FLAG, THREADS_HELP)
    .option(
      '--queue <url>',
      'a Redis URL (redis://host:6379): queue the trials for workers on any machine instead of running them here; waits for them and reports as a local sweep does',
    )
    .action(async (file: string, flags: SweepFlags) => runSweep(file, flags));
  sweep
    .command('status')
    .description(
      `where a sweep stands: a table of its trials, and the curves so far in ${SWEEP_FILES.comparison} (drawn unless the sweep is running)`,
    )
    .argument('<dir>', 'the sweep folder')
    .option('--queue <url>', `the queue of a queued sweep, to give its password (${SWEEP_FILES.record} keeps the URL without it)`)
    .action(async (dir: string, flags: { queue?: string }) => {
      const { folder, record } = await sweepFolder(dir, flags.queue);
      console.log(await statusTable(folder, record));
      // The sweep's own process draws while it runs: status, a reader then, writes nothing.
      const names = record.trials.map((trial) => trial.name);
      const drawn = await whileHeld(folder, 'sweep status', (held) => drawComparison(held, names));
      if (drawn === undefined)
        console.log(`the sweep is running (it holds ${folder.path}); it draws ${SWEEP_FILES.comparison} as its trials end`);
      else if (drawn) console.log(`curves of the trials so far: ${folder.comparisonFile}`);
    });
  sweep
    .command('cancel')
    .description(
      "stop a queued sweep's unfinished trials: waiting ones leave the queue, running ones checkpoint and stop; running the sweep again resumes them",
    )
    .argument('<dir>', 'the sweep folder')
    .option('--queue <url>', `the queue, to give its password (${SWEEP_FILES.record} keeps the URL without it)`)
    .action(async (dir: string, flags: { queue?: string }) => {
      const { folder, record } = await sweepFolder(dir, flags.queue);
      await cancelSweep(folder, record);
    });
}

export async function runSweep(file: string, flags: SweepFlags, log: (line: string) => void = console.log): Promise<void> {
  const source = resolve(file);
  const sweep = parseSweep(await readJson(source), source);
  const backend = backendChoice(flags.backend);
  const threads = threadsChoice(flags.threads);
  const concurrency = flags.concurrency === undefined ? sweep.concurrency : positiveInteger(flags.concurrency, '--concurrency');
  // The base's relative paths are its file's (or, inline, the sweep file's).
  const baseFile = typeof sweep.base === 'string' ? resolve(dirname(source), sweep.base) : undefined;
  const base: Record<string, unknown> =
    typeof sweep.base === 'string' ? ((await readJson(baseFile!)) as Record<string, unknown>) : { ...sweep.base };
  if (typeof base.dataset === 'object' && base.dataset !== null)
    base.dataset = absoluteDataset(base.dataset as Record<string, unknown>, dirname(baseFile ?? source));
  if (typeof base.model === 'object' && base.model !== null)
    base.model = absoluteModel(base.model as Record<string, unknown>, dirname(baseFile ?? source));
  const trials = expandTrials(sweep, base, source);

  const folder = new SweepFolder(flags.out ?? join('sweeps', basename(source).replace(/\.json$/, '')));
  // Redis answers, and takes the password, before anything is written or said to be queued.
  if (flags.queue !== undefined) {
    await checkRedis(flags.queue).catch((error: unknown) => {
      throw error instanceof QueueUnreachableError ? new CliError(`${error.message}; nothing was queued`) : error;
    });
  }
  if (folder.recordFile === source)
    throw new CliError(`${source}: --out ${folder.path} would write the sweep's record over this sweep file; choose another folder`);
  // The sweep folder is this process's while it runs (each trial's run folder, its trainer's).
  const claim = await claimFolder(folder.path, { purpose: 'sweep' });
  try {
    await sweepInto(
      new ClaimedSweepFolder(claim),
      source,
      trials,
      { ...flags, backend, threads, concurrency, ...(sweep.scheduler && { scheduler: sweep.scheduler }) },
      log,
    );
  } finally {
    await claim.release();
  }
}

async function sweepInto(
  folder: ClaimedSweepFolder,
  source: string,
  trials: readonly Trial[],
  flags: { queue?: string; backend: BackendChoice; threads: number | undefined; concurrency: number; scheduler?: SchedulerSpec },
  log: (line: string) => void,
): Promise<void> {
  const out = folder.path;
  const { backend, threads, concurrency } = flags;
  await folder.writeTrialExperiments(trials);
  const previous = await folder.readRecord();
  // The queue is recorded (and shown) without its password: give it again (URL or REDISCLI_AUTH) to status and cancel.
  // Each trial's most epochs, and the scheduler: what its trainer's scheduler reads between epochs.
  const record: SweepRecord = {
    source,
    ...(flags.queue !== undefined && { queue: withoutPassword(flags.queue) }),
    trials: trials.map(({ name, settings, experiment }) => ({ name, settings, epochs: scheduleEpochs(experiment.schedule) })),
    ...(flags.scheduler && { scheduler: flags.scheduler }),
    states: { ...previous?.states },
  };
  await folder.writeRecord(record);
  log(
    `sweep ${source}: ${trials.length} trials, ${flags.queue ? `for rxvision workers at ${withoutPassword(flags.queue)}` : `${concurrency} at a time`}, into ${out}`,
  );

  const queue = flags.queue === undefined ? undefined : openTrialQueue(flags.queue, log);
  const run = queue
    ? (trial: Trial) => queue.run(folder.trialJob(trial.name), trial.experiment)
    : (trial: Trial) =>
        trialProcess(folder.trialJob(trial.name), { backend, threads, label: trial.name, log }).pipe(
          // Paused by the scheduler until earlier trials (running beside it) get as far: resumed a little later.
          retry({
            delay: (error: unknown) => (error instanceof TrialPausedError ? timer(PAUSED_TRIAL_DELAY_MS) : throwError(() => error)),
          }),
        );
  // Queued, a trial is so only once Redis confirmed it; one that never got there is not failed, but not queued.
  const queued = new Set<string>();
  const notQueued: string[] = [];
  try {
    await lastValueFrom(
      // Queued, every trial waits at once; the workers decide how many run.
      runTrials(trials, { concurrency: queue ? trials.length : concurrency, run }).pipe(
        filter((update) => !(queue && update.state === 'running')),
        // A finished trial its scheduler stopped is said to be so.
        concatMap(async (update) => ({
          update,
          summary:
            update.state === 'finished'
              ? await folder
                  .trial(update.trial)
                  .readSummary()
                  .catch(() => undefined)
              : undefined,
        })),
        tap(({ update, summary }) => {
          const trial = trials.find((t) => t.name === update.trial)!;
          const settings = `${update.trial} (${describeSettings(trial.settings)})`;
          if (update.state === 'queued') queued.add(update.trial);
          if (queue && update.state === 'failed' && !queued.has(update.trial)) {
            notQueued.push(update.trial);
            return log(`${settings}: not queued: ${update.reason}`);
          }
          const said =
            update.state === 'failed'
              ? `failed: ${update.reason}`
              : summary?.ended === 'scheduler'
                ? `stopped early at epoch ${summary.epochsRun}`
                : update.state;
          log(`${settings}: ${said}`);
          record.states[update.trial] = { state: update.state, ...(update.state === 'failed' && { reason: update.reason }) };
        }),
        // Written as states change, one write at a time, so that status (and a rerun) knows what happened.
        concatMap(() => folder.writeRecord(record)),
      ),
      { defaultValue: undefined },
    );
  } finally {
    await queue?.close();
  }
  await folder.writeRecord(record);
  await drawComparison(
    folder,
    trials.map((trial) => trial.name),
  );
  log(await statusTable(folder, record));
  if (notQueued.length > 0)
    throw new CliError(
      `${notQueued.length} of ${trials.length} trials could not be queued (${notQueued.join(', ')}; reasons above); run the sweep again to queue them`,
    );
  const failed = Object.values(record.states).filter((state) => state.state === 'failed').length;
  if (failed > 0) throw new CliError(`${failed} of ${trials.length} trials failed (reasons above); the others are in ${out}`);
}
