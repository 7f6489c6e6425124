import { selectBackend } from '@rxvision/backend/node';
import { composeExperiment } from '@rxvision/experiment';
import { writeFileAtomic } from '@rxvision/folder';
import { lrFinderChart } from '@rxvision/plot';
import { renderPng } from '@rxvision/plot/node';
import { lrFinder, type LrFinderResult, type LrFinderStep } from '@rxvision/train';
import type { Command } from 'commander';
import { lastValueFrom, tap } from 'rxjs';
import { BACKEND_FLAG, BACKEND_HELP, backendChoice, THREADS_FLAG, THREADS_HELP, threadsChoice } from '../backend-option.js';
import { CliError } from '../cli-error.js';
import { type ExperimentFlags, experimentFromFlags } from '../experiment-flags.js';

export interface LrFindFlags {
  readonly config: string;
  readonly data?: string;
  readonly steps: string;
  readonly start: string;
  readonly end: string;
  readonly chart?: string;
  readonly backend: string;
  readonly threads?: string;
  readonly json?: boolean;
}

export function registerLrFind(program: Command): void {
  program
    .command('lr-find')
    .description(
      "Leslie Smith's learning-rate range test on an experiment, as fastai's lr_find: a short run over exponentially rising rates with its model, data, optimizer and loss, stopped where the loss diverges; prints the curve and a suggested rate (fastai's valley), writes nothing else",
    )
    .requiredOption('--config <file>', 'an experiment file (see experiments/)')
    .option('--data <dir>', 'folder of the prepared dataset, as train --data')
    .option('--steps <n>', 'steps from the first rate to the last', '100')
    .option('--start <rate>', 'the first learning rate', '1e-7')
    .option('--end <rate>', 'the last learning rate', '10')
    .option('--chart <file.png>', 'also draw the curve, the suggestion marked')
    .option(BACKEND_FLAG, BACKEND_HELP, 'auto')
    .option(THREADS_FLAG, THREADS_HELP)
    .option('--json', 'print each step and the result as JSON lines')
    .action(async (flags: LrFindFlags) => runLrFind(flags));
}

const rate = (text: string, flag: string) => {
  const value = Number(text);
  if (!(value > 0 && Number.isFinite(value))) throw new CliError(`${flag} must be a learning rate above 0, got "${text}"`);
  return value;
};

export async function runLrFind(flags: LrFindFlags, log: (line: string) => void = console.log): Promise<void> {
  const steps = Number(flags.steps);
  if (!(Number.isInteger(steps) && steps >= 6)) throw new CliError(`--steps must be an integer of at least 6, got "${flags.steps}"`);
  const [start, end] = [rate(flags.start, '--start'), rate(flags.end, '--end')];
  if (end <= start) throw new CliError(`--end (${flags.end}) must be above --start (${flags.start})`);
  const given = (flag: keyof ExperimentFlags) => flag === 'data' && flags.data !== undefined;
  const { experiment, source } = await experimentFromFlags(
    { config: flags.config, data: flags.data ?? '', schedule: 'tutorial', batchSize: '128', seed: '43', outputRelu: true },
    given,
  );
  const threads = threadsChoice(flags.threads);
  const composed = await composeExperiment(experiment, { source });
  try {
    await selectBackend(backendChoice(flags.backend), { ...(threads !== undefined && { threads }) });
    const model = composed.createModel();
    const { trainBatches, optimizer, loss } = composed.fitOptions;
    const test = lrFinder(model, {
      trainBatches,
      steps,
      startLearningRate: start,
      endLearningRate: end,
      ...(optimizer && { optimizer }),
      ...(loss && { loss }),
    });
    const every = Math.max(1, Math.round(steps / 20));
    if (!flags.json)
      log(`${source}: ${experiment.optimizer.type}, batch ${experiment.batchSize}, rates ${start} to ${end} over ${steps} steps`);
    const result = (await lastValueFrom(
      test.pipe(
        tap((event: LrFinderStep | LrFinderResult) => {
          if (flags.json) return log(JSON.stringify(event));
          if ('step' in event && event.step % every === 0)
            log(`  ${event.learningRate.toExponential(2).padStart(9)}  loss ${event.loss.toFixed(4)}`);
        }),
      ),
    )) as LrFinderResult;
    model.dispose();
    // Whole or not at all: a full disk or a killed process leaves no half a PNG.
    if (flags.chart) await writeFileAtomic(flags.chart, await renderPng(lrFinderChart(result.steps, result.suggestion)));
    if (flags.json) return;
    const last = result.steps.at(-1) as LrFinderStep | undefined;
    if (last && last.step < steps - 1) log(`stopped at ${last.learningRate.toExponential(2)}: the loss passed four times its best`);
    const { minimum, steep } = result.suggestions;
    if (minimum !== undefined && steep !== undefined)
      log(`fastai's other suggestions: minimum/10 ${minimum.toExponential(2)}, steepest fall ${steep.toExponential(2)}`);
    log(
      result.suggestion === undefined
        ? 'no suggestion: too few steps before the loss diverged (start lower, or take more steps)'
        : `suggested learning rate: ${result.suggestion.toExponential(2)} (fastai's valley)${flags.chart ? `, drawn in ${flags.chart}` : ''}`,
    );
  } finally {
    await composed.close();
  }
}
