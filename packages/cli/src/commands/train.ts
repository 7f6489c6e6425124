import { basename, join, resolve } from 'node:path';
import { DEFAULT_DASHBOARD_PORT } from '@rxvision/dashboard';
import { DEFAULT_DATA_DIR } from '@rxvision/dataset/node';
import { type RunEvent, type RunOptions, resumeExperiment, runExperiment } from '@rxvision/experiment';
import { type Command, Option } from 'commander';
import { lastValueFrom, type Observable } from 'rxjs';
import { BACKEND_FLAG, BACKEND_HELP, backendChoice, probingBackend, THREADS_FLAG, THREADS_HELP, threadsChoice } from '../backend-option.js';
import { InterruptedError } from '../cli-error.js';
import { type ExperimentFlags, experimentFromFlags } from '../experiment-flags.js';
import { LOCK_DEFAULT, LOCK_FLAG, LOCK_HELP, lockMs } from '../lock-option.js';
import { reportRun } from '../run-report.js';
import { stopSignals } from '../stop-signals.js';
import { liveDashboard } from '../live-dashboard.js';

export interface TrainFlags extends ExperimentFlags {
  readonly backend: string;
  readonly threads?: string;
  readonly out?: string;
  readonly resume?: string;
  readonly tensorboard?: string;
  /** true for the default port, or the port as typed. */
  readonly dashboard?: boolean | string;
  readonly json?: boolean;
  readonly lockSeconds?: string;
  /** The sweep folder of this trial (its run folder's parent): its scheduler decides between epochs. */
  readonly sweep?: string;
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train an experiment (default: the CIFAR-10 tutorial), preparing its dataset first if needed')
    .option('--config <file>', 'an experiment file (see experiments/); the flags below that you give override its fields')
    .option('--data <dir>', 'folder of the prepared dataset (CIFAR-10 or Fashion-MNIST)', DEFAULT_DATA_DIR)
    .option('--schedule <name|phases>', 'tutorial, quick, or EPOCHS@LR,... like "10@0.05,8@0.005"', 'tutorial')
    .option('--batch-size <n>', 'batch size', '128')
    .option('--seed <n>', 'seed of the split, the shuffling, the augmentation and the initial weights', '43')
    .option(BACKEND_FLAG, BACKEND_HELP, 'auto')
    .option(THREADS_FLAG, THREADS_HELP)
    .option(
      '--precision <type>',
      'float32 or bfloat16 (convolutions and products in mixed precision: onednn and onednn-cpu on AVX512-BF16)',
    )
    .option('--no-output-relu', "leave out the tutorial's ReLU on the output layer (plain logits)")
    .option('--limit <n>', 'train and validate on the first n training images only, a tenth of them held out (quick experiments)')
    .option('--out <dir>', 'run folder (default runs/<date-time>)')
    .option('--resume <run>', 'continue the run in this folder from its last checkpoint (its own settings apply)')
    .option('--tensorboard <dir>', 'also write TensorBoard event files into this folder, as the run goes (tensorboard --logdir DIR)')
    .option(
      '--dashboard [port]',
      `serve the live dashboard of this run's folder while it trains, on 127.0.0.1 (port ${DEFAULT_DASHBOARD_PORT} unless given; 0: any free one)`,
    )
    .option('--json', 'print one JSON line per epoch and the summary as JSON')
    .option(LOCK_FLAG, LOCK_HELP, LOCK_DEFAULT)
    .addOption(
      new Option(
        '--sweep <dir>',
        'the sweep folder this run is a trial of: its scheduler decides between epochs (set by rxvision sweep and worker)',
      ).hideHelp(),
    )
    .action(async (flags: TrainFlags, command: Command) => {
      await runTrain(flags, (flag) => command.getOptionValueSource(flag) === 'cli');
    });
}

/**
 * `rxvision train`: the flags made into an experiment and run options for `runExperiment` (or
 * `resumeExperiment`), which does the work; this adds the backend flags, Ctrl-C, the live dashboard
 * and what is printed. `given` says which flags the user typed: only those override a file's fields.
 */
export async function runTrain(flags: TrainFlags, given: (flag: keyof ExperimentFlags) => boolean = () => true): Promise<void> {
  const json = flags.json === true;
  const folder = resolve(flags.resume ?? flags.out ?? join('runs', new Date().toISOString().replace(/[:.]/g, '-')));
  const signals = stopSignals();
  // Only a sweep's trial loads the sweep package (and its Redis client): a fifth of start-up.
  const sweep = flags.sweep === undefined ? undefined : await import('@rxvision/sweep/node');
  const trialPolicy = await sweep?.sweepScheduler(resolve(flags.sweep!), basename(folder), { log: (line) => console.error(line) });
  const options: RunOptions = {
    ...(trialPolicy && { trialPolicy }),
    folder,
    stop: signals.stop,
    staleAfterMs: lockMs(flags.lockSeconds ?? LOCK_DEFAULT),
    ...(flags.tensorboard !== undefined && { tensorboard: resolve(flags.tensorboard) }),
    backend: probingBackend(backendChoice(flags.backend), threadsChoice(flags.threads), json ? () => {} : console.log),
  };
  let events: Observable<RunEvent>;
  if (flags.resume !== undefined) {
    events = resumeExperiment(options); // the run's own experiment, from its checkpoint
  } else {
    const { experiment, source } = await experimentFromFlags(flags, given);
    events = runExperiment(experiment, { ...options, source });
  }
  if (options.tensorboard !== undefined && !json)
    console.log(`TensorBoard event files go into ${options.tensorboard} (see them with: tensorboard --logdir ${options.tensorboard})`);
  const last = await lastValueFrom(events.pipe(liveDashboard(flags.dashboard), reportRun(json)), { defaultValue: undefined });
  if (sweep && last?.type === 'stopped' && last.by === 'scheduler')
    throw new sweep.TrialPausedError(`paused by the sweep's scheduler until earlier trials get as far; checkpoint written`);
  if (last?.type === 'stopped')
    throw new InterruptedError(
      `interrupted; checkpoint written: continue with rxvision train --resume ${folder}`,
      signals.received() ?? 'SIGINT',
    );
}
