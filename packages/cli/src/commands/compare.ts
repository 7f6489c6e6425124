import { basename, dirname, resolve } from 'node:path';
import type { EpochRecord } from '@rxvision/metrics';
import { comparisonChart } from '@rxvision/plot';
import { RunFileError, RunFolder, SWEEP_FILES } from '@rxvision/run-folder';
import { renderPng } from '@rxvision/plot/node';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { makeWritableFolder, writeFileAtomic } from '@rxvision/folder';

export interface CompareFlags {
  readonly out: string;
  readonly json?: boolean;
}

interface RunFigures {
  readonly run: string;
  readonly epochs: number;
  readonly bestValAccuracy: number;
  readonly bestEpoch: number;
  readonly lastValAccuracy: number;
  readonly lastValLoss: number;
  readonly testAccuracy?: number;
}

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description(`draw the curves of several runs in one chart (${SWEEP_FILES.comparison}) and print their figures side by side`)
    .argument('<runs...>', 'run folders written by rxvision train (finished or not)')
    .option('--out <file>', 'the chart', SWEEP_FILES.comparison)
    .option('--json', 'print the figures as JSON')
    .action(async (runs: string[], flags: CompareFlags) => {
      await runCompare(runs, flags);
    });
}

export async function runCompare(runs: readonly string[], flags: CompareFlags): Promise<void> {
  const loaded = await Promise.all(
    runs.map(async (run) => ({
      run,
      history: await historyOf(run),
      testAccuracy: await readTestAccuracy(run),
      labelSmoothing: await readLabelSmoothing(run),
    })),
  );
  // The folder's name in the legend, or the path as given where two folders share a name.
  const names = loaded.map(({ run }) => basename(resolve(run)));
  const legend = loaded.map(({ run }, i) => (names.filter((name) => name === names[i]).length > 1 ? run : names[i]!));
  const out = resolve(flags.out);
  await makeWritableFolder(dirname(out));
  await writeFileAtomic(
    out,
    await renderPng(comparisonChart(loaded.map(({ history, labelSmoothing }, i) => ({ name: legend[i]!, history, labelSmoothing })))),
  );

  const figures: RunFigures[] = loaded.map(({ history, testAccuracy }, i) => {
    const best = history.reduce((a, b) => (b.valAccuracy > a.valAccuracy ? b : a));
    const last = history.at(-1)!;
    return {
      run: legend[i]!,
      epochs: history.length,
      bestValAccuracy: best.valAccuracy,
      bestEpoch: best.epoch,
      lastValAccuracy: last.valAccuracy,
      lastValLoss: last.valLoss,
      ...(testAccuracy !== undefined && { testAccuracy }),
    };
  });
  if (flags.json) {
    console.log(JSON.stringify({ runs: figures, chart: out }));
    return;
  }
  const width = Math.max(3, ...figures.map((f) => f.run.length));
  console.log(`${'run'.padEnd(width)}  epochs  best val_acc (epoch)  last val_acc  last val_loss  test_acc`);
  for (const f of figures) {
    const best = `${f.bestValAccuracy.toFixed(4)} (${f.bestEpoch})`;
    console.log(
      `${f.run.padEnd(width)}  ${String(f.epochs).padStart(6)}  ${best.padStart(19)}  ${f.lastValAccuracy.toFixed(4).padStart(12)}  ${f.lastValLoss.toFixed(4).padStart(13)}  ${f.testAccuracy === undefined ? '       –' : f.testAccuracy.toFixed(4).padStart(8)}`,
    );
  }
  console.log(`wrote ${out}`);
}

/** A run's history, checked: at least one epoch, each with its numbers. */
async function historyOf(run: string): Promise<EpochRecord[]> {
  const folder = new RunFolder(run);
  const path = folder.file('history');
  let history: EpochRecord[];
  try {
    history = await folder.readHistory();
  } catch (error) {
    throw new CliError(error instanceof RunFileError ? error.message : `${path}: unreadable (${(error as Error).message})`);
  }
  if (history.length === 0) throw new CliError(`${path}: no history (not a run folder, or no epoch finished yet)`);
  const bad = history.findIndex(
    (row) =>
      !['epoch', 'trainLoss', 'valLoss', 'valAccuracy'].every(
        (key) => typeof (row as unknown as Record<string, unknown>)[key] === 'number',
      ),
  );
  if (bad >= 0) throw new CliError(`${path}: epoch record ${bad + 1} lacks a number for epoch, trainLoss, valLoss or valAccuracy`);
  return history;
}

/** The label smoothing the run trained with (its experiment.json), 0 when none or unknown. */
async function readLabelSmoothing(run: string): Promise<number> {
  const experiment = (await new RunFolder(run).readExperiment().catch(() => undefined)) as { labelSmoothing?: unknown } | undefined;
  return typeof experiment?.labelSmoothing === 'number' ? experiment.labelSmoothing : 0;
}

/** The test accuracy of a finished run; undefined while it trains (or without a test split). */
async function readTestAccuracy(run: string): Promise<number | undefined> {
  const summary = await new RunFolder(run).readSummary().catch(() => undefined);
  return typeof summary?.test?.accuracy === 'number' ? summary.test.accuracy : undefined;
}
