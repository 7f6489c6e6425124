import type { ComposedExperiment, Experiment } from '@rxvision/experiment';
import { composeExperiment, probeExperiment } from '@rxvision/experiment';
import { scheduleEpochs } from '@rxvision/train';
import type { Command } from 'commander';
import { BACKEND_FLAG, BACKEND_HELP, backendChoice, probingBackend, THREADS_FLAG, THREADS_HELP, threadsChoice } from '../backend-option.js';
import { type ExperimentFlags, experimentFromFlags } from '../experiment-flags.js';

export interface CheckFlags {
  readonly data?: string;
  readonly json?: boolean;
  readonly backend?: string;
  readonly threads?: string;
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description(
      'validate an experiment file against its data without training: prints the experiment as it would run (dataset splits, model and its parameters, steps, the backend and one training step at its batch size, changing nothing), or the one line that is wrong with it; prepares a named dataset on first use, as train would',
    )
    .argument('<file>', 'an experiment file (see experiments/)')
    .option('--data <dir>', 'folder of the prepared dataset, as train --data')
    .option(BACKEND_FLAG, `tfjs backend to try the step on, as train --backend: ${BACKEND_HELP}`, 'auto')
    .option(THREADS_FLAG, THREADS_HELP)
    .option('--json', 'print the validated experiment, defaults filled in, and what composing it found, as JSON')
    .action(async (file: string, flags: CheckFlags) => runCheck(file, flags));
}

export async function runCheck(file: string, flags: CheckFlags, log: (line: string) => void = console.log): Promise<void> {
  const given = (flag: keyof ExperimentFlags) => flag === 'data' && flags.data !== undefined;
  const { experiment, source } = await experimentFromFlags(
    { config: file, data: flags.data ?? '', schedule: 'tutorial', batchSize: '128', seed: '43', outputRelu: true },
    given,
  );
  const choice = backendChoice(flags.backend ?? 'auto');
  const threads = threadsChoice(flags.threads);
  const composed = await composeExperiment(experiment, { source });
  try {
    // The backend train would pick, and one step on it at the batch size: a batch that does not fit its memory is refused here, as train refuses it.
    const probe = () => probeExperiment(composed.createModel, experiment.batchSize, source);
    const backend = await probingBackend(choice, threads, () => {})(probe, { precision: experiment.precision ?? 'float32' });
    const found = { ...describe(experiment, composed), backend: backend.backend };
    if (flags.json) return log(JSON.stringify({ source, experiment, ...found }));
    log(`${source}: valid`);
    log(
      `  data      ${found.train} training, ${found.validation} validation${found.test === undefined ? '' : `, ${found.test} test`} images of ${found.shape.join('×')} in ${found.classes.length} classes (${found.classes.slice(0, 5).join(', ')}${found.classes.length > 5 ? ', …' : ''})`,
    );
    log(`  model     ${describeModel(experiment)}: ${found.parameters.toLocaleString('en-US')} parameters`);
    log(
      `  training  ${found.epochs} epochs of ${found.stepsPerEpoch} steps (batch ${experiment.batchSize}), ${experiment.optimizer.type}${experiment.augment.length > 0 ? `, augmented by ${experiment.augment.map((step) => step.type).join(', ')}` : ''}`,
    );
    const stopping = [
      experiment.earlyStopping && `early stopping on ${experiment.earlyStopping.monitor} (patience ${experiment.earlyStopping.patience})`,
      experiment.keepBest && 'keeps the best epoch',
      experiment.timeBudgetSeconds !== undefined && `a budget of ${experiment.timeBudgetSeconds} s`,
    ].filter(Boolean);
    if (stopping.length > 0) log(`  stopping  ${stopping.join(', ')}`);
    log(`  backend   ${backend.backend}: a training step at batch ${experiment.batchSize} fits`);
  } finally {
    await composed.close();
  }
}

function describe(experiment: Experiment, composed: ComposedExperiment) {
  const { train, validation, test } = composed;
  return {
    train: train.length,
    validation: validation.length,
    test: test?.length,
    shape: train.shape,
    classes: train.classes,
    parameters: composed.parameters,
    epochs: scheduleEpochs(experiment.schedule),
    stepsPerEpoch: Math.ceil(train.length / experiment.batchSize),
  };
}

function describeModel(experiment: Experiment): string {
  const { type, ...settings } = experiment.model;
  return Object.keys(settings).length === 0 ? type : `${type} ${JSON.stringify(settings)}`;
}
