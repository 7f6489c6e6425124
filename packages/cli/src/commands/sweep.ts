import { spawn } from 'node:child_process';
import { access, mkdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExperimentError } from '@rxvision/experiment';
import type { EpochRecord } from '@rxvision/metrics';
import { comparisonChart } from '@rxvision/plot';
import { renderPng } from '@rxvision/plot/node';
import { describeSettings, expandTrials, parseSweep, runTrials, type Trial, type TrialUpdate } from '@rxvision/sweep';
import type { Command } from 'commander';
import { concatMap, lastValueFrom, Observable, tap } from 'rxjs';
import { BACKEND_FLAG, BACKEND_HELP, backendChoice, THREADS_FLAG, THREADS_HELP, threadsChoice } from '../backend-option.js';
import { CliError } from '../cli-error.js';
import { absoluteDataset, integer } from '../experiment-flags.js';
import { writeFileAtomic, writeJsonAtomic } from '../write-json.js';

export interface SweepFlags {
  readonly out?: string;
  readonly concurrency?: string;
  readonly backend: string;
  readonly threads?: string;
}

/** What `sweep status` and a rerun read back: the trials and how far each got. */
interface SweepRecord {
  readonly source: string;
  readonly trials: readonly { readonly name: string; readonly settings: Record<string, unknown> }[];
  readonly states: Record<string, { state: TrialUpdate['state']; reason?: string }>;
}

const bin = fileURLToPath(new URL('../../bin/rxvision.js', import.meta.url));

export function registerSweep(program: Command): void {
  program
    .command('sweep')
    .description('run every trial of a sweep file on this machine (each a train run in its own process), or `sweep status DIR` to see where a sweep stands')
    .argument('<file>', 'a sweep file: a base experiment and the fields to vary (or "status")')
    .argument('[dir]', 'with status: the sweep folder')
    .option('--out <dir>', 'the sweep folder: one run folder per trial (default sweeps/<file name>)')
    .option('--concurrency <n>', 'trials at once (default: the file\'s, else 1)')
    .option(BACKEND_FLAG, BACKEND_HELP, 'auto')
    .option(THREADS_FLAG, THREADS_HELP)
    .action(async (file: string, dir: string | undefined, flags: SweepFlags) => {
      if (file === 'status') {
        if (!dir) throw new CliError('sweep status needs the sweep folder: rxvision sweep status sweeps/NAME');
        console.log(await statusTable(resolve(dir)));
        return;
      }
      await runSweep(file, flags);
    });
}

export async function runSweep(file: string, flags: SweepFlags, log: (line: string) => void = console.log): Promise<void> {
  const source = resolve(file);
  const sweep = parseSweep(await readJson(source), source);
  const backend = backendChoice(flags.backend);
  const threads = threadsChoice(flags.threads);
  const concurrency = flags.concurrency === undefined ? sweep.concurrency : integer(flags.concurrency, '--concurrency');
  if (concurrency < 1) throw new CliError(`--concurrency must be at least 1, got "${flags.concurrency}"`);
  // The base's relative paths are its file's (or, inline, the sweep file's).
  const baseFile = typeof sweep.base === 'string' ? resolve(dirname(source), sweep.base) : undefined;
  const base: Record<string, unknown> = typeof sweep.base === 'string' ? ((await readJson(baseFile!)) as Record<string, unknown>) : { ...sweep.base };
  if (typeof base.dataset === 'object' && base.dataset !== null) base.dataset = absoluteDataset(base.dataset as Record<string, unknown>, dirname(baseFile ?? source));
  const trials = expandTrials(sweep, base, source);

  const out = resolve(flags.out ?? join('sweeps', basename(source).replace(/\.json$/, '')));
  await mkdir(join(out, 'trials'), { recursive: true });
  for (const trial of trials) await writeJsonAtomic(trialFile(out, trial.name), trial.experiment);
  const previous = await readRecord(out);
  const record: SweepRecord = { source, trials: trials.map(({ name, settings }) => ({ name, settings })), states: { ...previous?.states } };
  await writeJsonAtomic(join(out, 'sweep.json'), record);
  log(`sweep ${source}: ${trials.length} trials, ${concurrency} at a time, into ${out}`);

  await lastValueFrom(
    runTrials(trials, { concurrency, run: (trial) => runTrial(out, trial, backend, threads, log) }).pipe(
      tap((update) => {
        const trial = trials.find((t) => t.name === update.trial)!;
        log(`${update.trial} (${describeSettings(trial.settings)}): ${update.state === 'failed' ? `failed: ${update.reason}` : update.state}`);
        record.states[update.trial] = { state: update.state, ...(update.state === 'failed' && { reason: update.reason }) };
      }),
      // Written as states change, one write at a time, so that status (and a rerun) knows what happened.
      concatMap(() => writeJsonAtomic(join(out, 'sweep.json'), record)),
    ),
    { defaultValue: undefined },
  );
  await writeJsonAtomic(join(out, 'sweep.json'), record);
  const histories = await Promise.all(trials.map(async (trial) => ({ name: trial.name, history: await readHistory(join(out, trial.name)) })));
  const drawn = histories.filter((run) => run.history.length > 0);
  if (drawn.length > 0) await writeFileAtomic(join(out, 'comparison.png'), await renderPng(comparisonChart(drawn)));
  log(await statusTable(out));
  const failed = Object.values(record.states).filter((state) => state.state === 'failed').length;
  if (failed > 0) throw new CliError(`${failed} of ${trials.length} trials failed (reasons above); the others are in ${out}`);
}

/**
 * One trial as a `train` process: a new run, the continuation of an interrupted one (its
 * checkpoint), or nothing when it already finished. Unsubscribing stops it as Ctrl-C would
 * (it checkpoints first).
 */
function runTrial(out: string, trial: Trial, backend: string, threads: number | undefined, log: (line: string) => void): Observable<never> {
  return new Observable<never>((subscriber) => {
    const runDir = join(out, trial.name);
    let child: ReturnType<typeof spawn> | undefined;
    let stopped = false;
    void (async () => {
      if (await exists(join(runDir, 'summary.json'))) return subscriber.complete();
      const resume = await exists(join(runDir, 'checkpoint'));
      if (stopped) return;
      const args = [bin, 'train', ...(resume ? ['--resume', runDir] : ['--config', trialFile(out, trial.name), '--out', runDir]), '--backend', backend, ...(threads === undefined ? [] : ['--threads', String(threads)]), '--json'];
      if (resume) log(`${trial.name}: resuming from its checkpoint`);
      child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      let pending = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        pending += chunk.toString();
        const lines = pending.split('\n');
        pending = lines.pop()!;
        for (const line of lines) {
          const epoch = parseEpoch(line);
          if (epoch) log(`${trial.name}: epoch ${epoch.epoch}, val_acc ${epoch.valAccuracy.toFixed(4)}, val_loss ${epoch.valLoss.toFixed(4)}`);
        }
      });
      child.on('error', (error) => subscriber.error(error));
      child.on('close', (code) => {
        if (code === 0) subscriber.complete();
        else subscriber.error(new Error(lastLine(stderr).replace(/^rxvision: /, '') || `train exited with ${code}`));
      });
    })().catch((error: unknown) => subscriber.error(error));
    return () => {
      stopped = true;
      if (child && child.exitCode === null) child.kill('SIGTERM');
    };
  });
}

/** The table of a sweep folder: each trial's settings, state and figures. */
export async function statusTable(out: string): Promise<string> {
  const record = await readRecord(out);
  if (!record) throw new CliError(`${out}: not a sweep folder (no sweep.json)`);
  const rows = await Promise.all(
    record.trials.map(async ({ name, settings }) => {
      const runDir = join(out, name);
      const history = await readHistory(runDir);
      const summary = (await readJson(join(runDir, 'summary.json')).catch(() => undefined)) as { test?: { accuracy?: number } } | undefined;
      const state = record.states[name];
      const status = summary ? 'finished' : state?.state === 'failed' ? `failed: ${state.reason}` : history.length > 0 ? `unfinished (${history.length} epochs)` : (state?.state ?? 'pending');
      const last = history.at(-1);
      return [name, describeSettings(settings), status, last ? last.valAccuracy.toFixed(4) : '', summary?.test?.accuracy?.toFixed(4) ?? ''];
    }),
  );
  const table = [['trial', 'settings', 'state', 'val_acc', 'test_acc'], ...rows];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  return table.map((row) => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

const trialFile = (out: string, name: string) => join(out, 'trials', `${name}.json`);
const exists = (path: string) => access(path).then(() => true, () => false);
const lastLine = (text: string) => text.trim().split('\n').at(-1) ?? '';

async function readJson(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new CliError(`${path}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  });
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ExperimentError(path, `is not JSON (${(error as Error).message})`);
  }
}

async function readRecord(out: string): Promise<SweepRecord | undefined> {
  return (await readJson(join(out, 'sweep.json')).catch(() => undefined)) as SweepRecord | undefined;
}

async function readHistory(runDir: string): Promise<EpochRecord[]> {
  const history = await readJson(join(runDir, 'history.json')).catch(() => []);
  return Array.isArray(history) ? (history as EpochRecord[]) : [];
}

function parseEpoch(line: string): EpochRecord | undefined {
  try {
    const value = JSON.parse(line) as Partial<EpochRecord>;
    return typeof value.epoch === 'number' && typeof value.valAccuracy === 'number' && typeof value.valLoss === 'number' ? (value as EpochRecord) : undefined;
  } catch {
    return undefined;
  }
}
