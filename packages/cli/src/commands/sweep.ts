// Over 250 lines: `sweep run`, `status` and `cancel` share the sweep folder's record and queue; splitting
// them into a file each is still to do (#35).
import { mkdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { BackendChoice } from '@rxvision/backend/node';
import { absoluteDataset, parseJsonText } from '@rxvision/experiment';
import type { EpochRecord } from '@rxvision/metrics';
import { comparisonChart } from '@rxvision/plot';
import { readHistory, readSummary, type RunStatus, type RunSummary, runStatus, SWEEP_FILES, writeJson } from '@rxvision/run-folder';
import { renderPng } from '@rxvision/plot/node';
import {
  describeSettings,
  expandTrials,
  parseSweep,
  rungs,
  runTrials,
  type SchedulerSpec,
  type Trial,
  trialScheduler,
} from '@rxvision/sweep';
import { scheduleEpochs } from '@rxvision/train';
import {
  cancelTrials,
  checkRedis,
  openTrialQueue,
  PAUSED_TRIAL_DELAY_MS,
  QueueUnreachableError,
  type RecordedTrialState,
  readSweepRecord,
  type SweepRecord,
  TRIAL_CANCELLED,
  type TrialJob,
  type TrialJobState,
  trialJobStates,
  TrialPausedError,
  withoutPassword,
} from '@rxvision/sweep/node';
import type { Command } from 'commander';
import { concatMap, filter, lastValueFrom, retry, tap, throwError, timer } from 'rxjs';
import { BACKEND_FLAG, BACKEND_HELP, backendChoice, THREADS_FLAG, THREADS_HELP, threadsChoice } from '../backend-option.js';
import { CliError } from '../cli-error.js';
import { positiveInteger } from '../integer-flag.js';
import { trialProcess } from '../trial-process.js';
import { claimFolder, type FolderClaim, FolderHeldError } from '@rxvision/folder';

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
      const { out, record } = await sweepFolder(dir, flags.queue);
      console.log(await statusTable(out, record));
      // The sweep's own process draws while it runs: status, a reader then, writes nothing.
      const drawn = await whileHeld(out, 'sweep status', (claim) =>
        drawComparison(
          claim,
          record.trials.map((trial) => trial.name),
        ),
      );
      if (drawn === undefined) console.log(`the sweep is running (it holds ${out}); it draws ${SWEEP_FILES.comparison} as its trials end`);
      else if (drawn) console.log(`curves of the trials so far: ${join(out, SWEEP_FILES.comparison)}`);
    });
  sweep
    .command('cancel')
    .description(
      "stop a queued sweep's unfinished trials: waiting ones leave the queue, running ones checkpoint and stop; running the sweep again resumes them",
    )
    .argument('<dir>', 'the sweep folder')
    .option('--queue <url>', `the queue, to give its password (${SWEEP_FILES.record} keeps the URL without it)`)
    .action(async (dir: string, flags: { queue?: string }) => {
      const { out, record } = await sweepFolder(dir, flags.queue);
      await cancelSweep(out, record);
    });
}

/** A sweep folder's record; the recorded queue has no password: `queue` (or REDISCLI_AUTH) gives it. */
async function sweepFolder(dir: string, queue: string | undefined): Promise<{ out: string; record: SweepRecord }> {
  const out = resolve(dir);
  const stored = await readSweepRecord(out);
  if (!stored) throw new CliError(`${out}: not a sweep folder (no ${SWEEP_FILES.record})`);
  return { out, record: { ...stored, ...(stored.queue !== undefined && queue !== undefined && { queue }) } };
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
  const trials = expandTrials(sweep, base, source);

  const out = resolve(flags.out ?? join('sweeps', basename(source).replace(/\.json$/, '')));
  // Redis answers, and takes the password, before anything is written or said to be queued.
  if (flags.queue !== undefined) {
    await checkRedis(flags.queue).catch((error: unknown) => {
      throw error instanceof QueueUnreachableError ? new CliError(`${error.message}; nothing was queued`) : error;
    });
  }
  if (join(out, SWEEP_FILES.record) === source)
    throw new CliError(`${source}: --out ${out} would write the sweep's record over this sweep file; choose another folder`);
  // The sweep folder is this process's while it runs (each trial's run folder, its trainer's).
  const claim = await claimFolder(out, { purpose: 'sweep' });
  try {
    await sweepInto(
      claim,
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
  claim: FolderClaim,
  source: string,
  trials: readonly Trial[],
  flags: { queue?: string; backend: BackendChoice; threads: number | undefined; concurrency: number; scheduler?: SchedulerSpec },
  log: (line: string) => void,
): Promise<void> {
  const { folder: out } = claim;
  const { backend, threads, concurrency } = flags;
  await mkdir(join(out, SWEEP_FILES.trials), { recursive: true });
  for (const trial of trials) await writeJson(claim, trialFile(out, trial.name), trial.experiment);
  const previous = await readSweepRecord(out);
  // The queue is recorded (and shown) without its password: give it again (URL or REDISCLI_AUTH) to status and cancel.
  // Each trial's most epochs, and the scheduler: what its trainer's scheduler reads between epochs.
  const record: SweepRecord = {
    source,
    ...(flags.queue !== undefined && { queue: withoutPassword(flags.queue) }),
    trials: trials.map(({ name, settings, experiment }) => ({ name, settings, epochs: scheduleEpochs(experiment.schedule) })),
    ...(flags.scheduler && { scheduler: flags.scheduler }),
    states: { ...previous?.states },
  };
  await writeJson(claim, join(out, SWEEP_FILES.record), record);
  log(
    `sweep ${source}: ${trials.length} trials, ${flags.queue ? `for rxvision workers at ${withoutPassword(flags.queue)}` : `${concurrency} at a time`}, into ${out}`,
  );

  const queue = flags.queue === undefined ? undefined : openTrialQueue(flags.queue, log);
  const run = queue
    ? (trial: Trial) => queue.run(trialJob(out, trial.name), trial.experiment)
    : (trial: Trial) =>
        trialProcess(trialJob(out, trial.name), { backend, threads, label: trial.name, log }).pipe(
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
          summary: update.state === 'finished' ? await readSummary(join(out, update.trial)).catch(() => undefined) : undefined,
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
        concatMap(() => writeJson(claim, join(out, SWEEP_FILES.record), record)),
      ),
      { defaultValue: undefined },
    );
  } finally {
    await queue?.close();
  }
  await writeJson(claim, join(out, SWEEP_FILES.record), record);
  await drawComparison(
    claim,
    trials.map((trial) => trial.name),
  );
  log(await statusTable(out, record));
  if (notQueued.length > 0)
    throw new CliError(
      `${notQueued.length} of ${trials.length} trials could not be queued (${notQueued.join(', ')}; reasons above); run the sweep again to queue them`,
    );
  const failed = Object.values(record.states).filter((state) => state.state === 'failed').length;
  if (failed > 0) throw new CliError(`${failed} of ${trials.length} trials failed (reasons above); the others are in ${out}`);
}

/** Draws the trials' curves so far into comparison.png; false when no trial has an epoch yet. */
async function drawComparison(claim: FolderClaim, names: readonly string[]): Promise<boolean> {
  const histories = await Promise.all(names.map(async (name) => ({ name, history: await historyOf(join(claim.folder, name)) })));
  const drawn = histories.filter((run) => run.history.length > 0);
  if (drawn.length > 0) await claim.writeFile(join(claim.folder, SWEEP_FILES.comparison), await renderPng(comparisonChart(drawn)));
  return drawn.length > 0;
}

/** `write` holding the sweep folder's claim; undefined (nothing written) while a running sweep holds it. */
async function whileHeld<T>(out: string, purpose: string, write: (claim: FolderClaim) => Promise<T>): Promise<T | undefined> {
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

/**
 * A trial's state in the status table: its run's status (@rxvision/run-folder's one rule), told
 * more precisely by what the sweep knows (its record says why a trial failed, the queue which wait).
 */
function trialState(
  run: RunStatus,
  known: { damage?: string; summary?: RunSummary; recorded?: RecordedTrialState; job?: string; epochs: string },
): string {
  const { damage, summary, recorded, job, epochs } = known;
  if (damage) return `damaged: ${damage}`;
  if (run === 'finished') return summary?.ended === 'scheduler' ? `stopped early at epoch ${summary.epochsRun}` : 'finished';
  if (recorded?.state === 'failed') return `failed: ${recorded.reason}`;
  if (job === 'active' || run === 'running') return `running${epochs}`;
  if (job === 'waiting' || job === 'delayed' || job === 'prioritized') return `queued${epochs}`;
  if (epochs) return `${run}${epochs}`;
  return recorded?.state ?? 'pending';
}

/**
 * The table of a sweep folder (`record` is its sweep.json): each trial's settings, state and
 * figures. The folder says what finished and how far the others got; for a queued sweep, the queue
 * says which trials are running and which wait (when Redis answers within seconds; otherwise a line
 * says so).
 */
async function statusTable(out: string, record: SweepRecord): Promise<string> {
  const queued = record.queue === undefined ? undefined : await queueStates(out, record);
  const rows = await Promise.all(
    record.trials.map(async ({ name, settings }) => {
      const runDir = join(out, name);
      const read = await readHistory(runDir).then(
        (records) => ({ records, damage: undefined }),
        (error: Error) => ({ records: [] as EpochRecord[], damage: error.message }),
      );
      const history = read.records;
      const summary = await readSummary(runDir).catch(() => undefined);
      const job = queued instanceof Map ? queued.get(name) : undefined;
      const promoted = promotedPast(record, name, history.length);
      const epochs = history.length > 0 ? ` (${history.length} epochs${promoted ? `, promoted past epoch ${promoted}` : ''})` : '';
      const status = trialState(await runStatus(runDir), { damage: read.damage, summary, recorded: record.states[name], job, epochs });
      const last = history.at(-1);
      const figure = (value: number | null | undefined) => (typeof value === 'number' ? value.toFixed(4) : '');
      return {
        epochs: history.length,
        cells: [name, describeSettings(settings), status, figure(last?.valAccuracy), figure(summary?.test?.accuracy)],
      };
    }),
  );
  const table = [['trial', 'settings', 'state', 'val_acc', 'test_acc'], ...rows.map((row) => row.cells)];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  const lines = table.map((row) =>
    row
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd(),
  );
  if (record.scheduler) {
    // The budget: epochs trained against every trial's whole schedule (a full grid).
    const trained = rows.reduce((sum, row) => sum + row.epochs, 0);
    const full = record.trials.reduce((sum, trial) => sum + (trial.epochs ?? 0), 0);
    lines.push(
      `${record.scheduler.type}: ${trained} of the ${full} epochs every trial's whole schedule takes (${((100 * trained) / full).toFixed(0)}%)`,
    );
  }
  if (typeof queued === 'string') lines.push(queued);
  return lines.join('\n');
}

/** The last rung (of an ASHA sweep) trial `name` went on past, or undefined. */
function promotedPast(record: SweepRecord, name: string, epochs: number): number | undefined {
  const index = record.trials.findIndex((trial) => trial.name === name);
  if (record.scheduler?.type !== 'asha' || index < 0) return undefined;
  return rungs(trialScheduler(record.scheduler, record.trials[index]!.epochs ?? Number.POSITIVE_INFINITY), index)
    .filter((rung) => rung < epochs)
    .at(-1);
}

/** The queue's view of a queued sweep's trials, or a line saying why there is none. */
async function queueStates(out: string, record: SweepRecord): Promise<Map<string, TrialJobState> | string> {
  try {
    return await trialJobStates(record.queue!, await queuedJobs(out, record));
  } catch (error) {
    return `(the queue at ${withoutPassword(record.queue!)} did not answer (${withoutStop(error)}); states from the folder only)`;
  }
}

/**
 * Cancels a queued sweep: its waiting trials leave the queue, its running ones stop at their
 * workers' next heartbeat, checkpointed; each is recorded as failed with the reason, and running
 * the sweep again resumes them.
 */
async function cancelSweep(out: string, record: SweepRecord): Promise<void> {
  if (record.queue === undefined)
    throw new CliError(`${out}: this sweep runs on this machine, not through a queue; stop it with Ctrl-C where it runs`);
  const didNotAnswer = (error: unknown) =>
    new CliError(
      `the queue at ${withoutPassword(record.queue!)} did not answer (${withoutStop(error)}); run sweep cancel again once it does`,
    );
  // A refused password is its own line, not "did not answer".
  await checkRedis(record.queue).catch((error: unknown) => {
    throw error instanceof QueueUnreachableError ? didNotAnswer(error) : error;
  });
  const cancelled = await cancelTrials(record.queue, await queuedJobs(out, record)).catch((error: unknown) => {
    throw didNotAnswer(error);
  });
  // A running sweep hears its trials end cancelled and records them itself; otherwise the record is ours to write.
  for (const name of [...cancelled.removed, ...cancelled.stopping]) record.states[name] = { state: 'failed', reason: TRIAL_CANCELLED };
  await whileHeld(out, 'sweep cancel', (claim) => writeJson(claim, join(out, SWEEP_FILES.record), record));
  const groups = [
    ['taken out of the queue', cancelled.removed],
    ["stopping at their workers' next heartbeat, checkpointed", cancelled.stopping],
    ['had ended already', cancelled.ended],
  ] as const;
  console.log(`sweep ${out}: cancelled`);
  for (const [what, names] of groups) if (names.length > 0) console.log(`  ${what}: ${names.join(', ')}`);
  console.log(`to resume: rxvision sweep ${record.source} --queue ${withoutPassword(record.queue)} --out ${out}`);
}

/** A queued sweep's trials as the queue knows them: each job and the experiment its id derives from. */
const queuedJobs = (out: string, record: SweepRecord) =>
  Promise.all(record.trials.map(async ({ name }) => ({ job: trialJob(out, name), experiment: await readJson(trialFile(out, name)) })));
const withoutStop = (error: unknown) => (error as Error).message.replace(/\.$/, '');

const trialFile = (out: string, name: string) => join(out, SWEEP_FILES.trials, `${name}.json`);
/** A trial of the sweep folder `out` as files: its experiment and its run folder. */
const trialJob = (out: string, name: string): TrialJob => ({
  sweep: out,
  trial: name,
  experiment: trialFile(out, name),
  runDir: join(out, name),
});

async function readJson(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new CliError(`${path}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  });
  return parseJsonText(text, path);
}

/** A trial's history so far: none while it has not started, or when its file cannot be read. */
const historyOf = (runDir: string): Promise<EpochRecord[]> => readHistory(runDir).catch(() => []);
