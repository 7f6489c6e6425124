import type { EpochRecord } from '@rxvision/metrics';
import type { RunStatus, RunSummary } from '@rxvision/run-folder';
import { describeSettings, rungs, trialScheduler } from '@rxvision/sweep';
import {
  type RecordedTrialState,
  type SweepFolder,
  type SweepRecord,
  type TrialJobState,
  trialJobStates,
  withoutPassword,
} from '@rxvision/sweep/node';
import { queuedJobs, withoutStop } from './sweep-folder.js';

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
export async function statusTable(folder: SweepFolder, record: SweepRecord): Promise<string> {
  const queued = record.queue === undefined ? undefined : await queueStates(folder, record);
  const rows = await Promise.all(
    record.trials.map(async ({ name, settings }) => {
      const run = folder.trial(name);
      const read = await run.readHistory().then(
        (records) => ({ records, damage: undefined }),
        (error: Error) => ({ records: [] as EpochRecord[], damage: error.message }),
      );
      const history = read.records;
      const summary = await run.readSummary().catch(() => undefined);
      const job = queued instanceof Map ? queued.get(name) : undefined;
      const promoted = promotedPast(record, name, history.length);
      const epochs = history.length > 0 ? ` (${history.length} epochs${promoted ? `, promoted past epoch ${promoted}` : ''})` : '';
      const status = trialState(await run.status(summary !== undefined), {
        damage: read.damage,
        summary,
        recorded: record.states[name],
        job,
        epochs,
      });
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
async function queueStates(folder: SweepFolder, record: SweepRecord): Promise<Map<string, TrialJobState> | string> {
  try {
    return await trialJobStates(record.queue!, await queuedJobs(folder, record));
  } catch (error) {
    return `(the queue at ${withoutPassword(record.queue!)} did not answer (${withoutStop(error)}); states from the folder only)`;
  }
}
