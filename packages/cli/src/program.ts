import { Command } from 'commander';
import { reportError } from './report-error.js';

type Register = (program: Command) => void;

/**
 * The commands, in the order `rxvision --help` lists them, each loaded only when asked for: a
 * command pulls in only its own packages (prepare needs no tfjs, `--help` none at all), which
 * saves a second of start-up on every run that fails at its flags.
 */
const COMMANDS: ReadonlyArray<readonly [name: string, load: () => Promise<Register>]> = [
  ['prepare', async () => (await import('./commands/prepare.js')).registerPrepare],
  ['explore', async () => (await import('./commands/explore.js')).registerExplore],
  ['train', async () => (await import('./commands/train.js')).registerTrain],
  ['check', async () => (await import('./commands/check.js')).registerCheck],
  ['lr-find', async () => (await import('./commands/lr-find.js')).registerLrFind],
  ['evaluate', async () => (await import('./commands/evaluate.js')).registerEvaluate],
  ['predict', async () => (await import('./commands/predict.js')).registerPredict],
  ['export', async () => (await import('./commands/export.js')).registerExport],
  ['compare', async () => (await import('./commands/compare.js')).registerCompare],
  ['dashboard', async () => (await import('./commands/dashboard.js')).registerDashboard],
  ['sweep', async () => (await import('./commands/sweep.js')).registerSweep],
  ['worker', async () => (await import('./commands/worker.js')).registerWorker],
];

/**
 * The program with the command `argv` names, or with every command when it names none of them
 * (`rxvision --help` lists them all, a misspelt one gets its suggestion).
 */
export async function createProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('rxvision').description(
    'Train image classifiers (CIFAR-10, Fashion-MNIST, any prepared dataset) with composable RxJS pipelines.',
  );
  const named = argv.find((arg) => !arg.startsWith('-'));
  const chosen = COMMANDS.filter(([name]) => name === named);
  for (const [, load] of chosen.length > 0 ? chosen : COMMANDS) (await load())(program);
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
    await (await createProgram(argv)).parseAsync(argv, { from: 'user' });
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
