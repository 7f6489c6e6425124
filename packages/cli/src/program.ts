import { Command, CommanderError } from 'commander';
import { DatasetError } from '@rxvision/dataset';
import { NonFiniteLossError } from '@rxvision/train';
import { CliError } from './cli-error.js';
import { registerEvaluate } from './commands/evaluate.js';
import { registerExplore } from './commands/explore.js';
import { registerPredict } from './commands/predict.js';
import { registerPrepare } from './commands/prepare.js';
import { registerTrain } from './commands/train.js';

export function createProgram(): Command {
  const program = new Command('rxvision')
    .description('Train image classifiers on CIFAR-10 with composable RxJS pipelines.')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerPrepare(program);
  registerExplore(program);
  registerTrain(program);
  registerEvaluate(program);
  registerPredict(program);
  for (const command of program.commands) command.exitOverride().showHelpAfterError('(run with --help for usage)');
  return program;
}

/** Runs the CLI; every failure ends as one line on stderr and a non-zero exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await createProgram().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode; // commander printed the message
    if (error instanceof DatasetError || error instanceof CliError || error instanceof NonFiniteLossError) {
      console.error(`rxvision: ${error.message}`);
      return error instanceof CliError ? error.exitCode : 1;
    }
    console.error(`rxvision: ${(error as Error).stack ?? String(error)}`);
    return 1;
  }
}
