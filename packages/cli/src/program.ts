import { Command } from 'commander';
import { registerCheck } from './commands/check.js';
import { registerCompare } from './commands/compare.js';
import { registerDashboard } from './commands/dashboard.js';
import { registerEvaluate } from './commands/evaluate.js';
import { registerExplore } from './commands/explore.js';
import { registerExport } from './commands/export.js';
import { registerPredict } from './commands/predict.js';
import { registerPrepare } from './commands/prepare.js';
import { registerSweep } from './commands/sweep.js';
import { registerTrain } from './commands/train.js';
import { registerWorker } from './commands/worker.js';
import { reportError } from './report-error.js';

export function createProgram(): Command {
  const program = new Command('rxvision').description(
    'Train image classifiers (CIFAR-10, Fashion-MNIST, any prepared dataset) with composable RxJS pipelines.',
  );
  registerPrepare(program);
  registerExplore(program);
  registerTrain(program);
  registerCheck(program);
  registerEvaluate(program);
  registerPredict(program);
  registerExport(program);
  registerCompare(program);
  registerDashboard(program);
  registerSweep(program);
  registerWorker(program);
  // Every command and subcommand (sweep run, status, cancel), by its path: `rxvision sweep status`.
  const all = (command: Command, path: string[]): [Command, string[]][] => [
    [command, path],
    ...command.commands.flatMap((sub) => all(sub, [...path, sub.name()])),
  ];
  for (const [command, path] of all(program, [])) {
    const usage = `rxvision ${[...path, '--help'].join(' ')}`;
    // Usage errors look like every other failure: one line, "rxvision: …".
    command.exitOverride().configureOutput({
      outputError: (text, write) => write(`rxvision: ${text.replace(/^error: /, '').trimEnd()} (see ${usage})\n`),
    });
  }
  return program;
}

/** Runs the CLI; every failure ends as one line on stderr (see `reportError`) and a non-zero exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await createProgram().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    return exitWith(error);
  }
}

/** Prints the error's one line and returns its exit code: for `main` and for the process's last-resort handlers. */
export function exitWith(error: unknown): number {
  const { line, exitCode } = reportError(error);
  if (line !== undefined) console.error(line);
  return exitCode;
}
