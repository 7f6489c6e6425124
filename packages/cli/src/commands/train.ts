import { basename, dirname, join, resolve } from 'node:path';
import { type BackendChoice, selectBackend } from '@rxvision/backend';
import { DEFAULT_DASHBOARD_PORT } from '@rxvision/dashboard';
import { DEFAULT_DATA_DIR } from '@rxvision/dataset/node';
import { claimFolder, type FolderClaim, removeEmptyFolders } from '@rxvision/folder';
import { type ComposedExperiment, composeExperiment, type Experiment } from '@rxvision/experiment';
import { type EpochRecord, perClassAccuracy } from '@rxvision/metrics';
import { TUTORIAL_HIDDEN_UNITS } from '@rxvision/model';
import { fileSystemSaver } from '@rxvision/model/node';
import { accuracyChart, confusionMatrixChart, lossChart } from '@rxvision/plot';
import { renderPng } from '@rxvision/plot/node';
import { runFile, writeHistory, writeRunExperiment, writeSummary } from '@rxvision/run-folder';
import { evaluate, fit, probeTraining, scheduleEpochs, type TrainingEvent } from '@rxvision/train';
import { dispose, memory } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Command } from 'commander';
import { writeTensorBoard } from '@rxvision/tensorboard/node';
import { concatMap, identity, lastValueFrom, Subject, tap } from 'rxjs';
import { hasCheckpoint, loadCheckpoint, NO_CHECKPOINT, readCheckpointConfig, type RunConfig, saveCheckpoint } from '../checkpoint.js';
import { BACKEND_FLAG, BACKEND_HELP, backendChoice, THREADS_FLAG, THREADS_HELP, threadsChoice } from '../backend-option.js';
import { CliError } from '../cli-error.js';
import { openDashboard } from './dashboard.js';
import { type ExperimentFlags, experimentFromFlags } from '../experiment-flags.js';
import { imageGrid } from '../images.js';
import { LOCK_DEFAULT, LOCK_FLAG, LOCK_HELP, lockMs } from '../lock-option.js';
import { progressBar } from '../progress.js';
import { prepareOutputFolder } from '../output-folder.js';

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
}

const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
/** Two deliveries of one signal closer than this are one keypress (a person cannot press twice so fast). */
const SAME_KEYPRESS_MS = 25;

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
    .option('--no-output-relu', 'leave out the tutorial\'s ReLU on the output layer (plain logits)')
    .option('--limit <n>', 'train and validate on the first n training images only, a tenth of them held out (quick experiments)')
    .option('--out <dir>', 'run folder (default runs/<date-time>)')
    .option('--resume <run>', 'continue the run in this folder from its last checkpoint (its own settings apply)')
    .option('--tensorboard <dir>', 'also write TensorBoard event files into this folder, as the run goes (tensorboard --logdir DIR)')
    .option('--dashboard [port]', `serve the live dashboard of this run's folder while it trains, on 127.0.0.1 (port ${DEFAULT_DASHBOARD_PORT} unless given; 0: any free one)`)
    .option('--json', 'print one JSON line per epoch and the summary as JSON')
    .option(LOCK_FLAG, LOCK_HELP, LOCK_DEFAULT)
    .action(async (flags: TrainFlags, command: Command) => {
      await runTrain(flags, (flag) => command.getOptionValueSource(flag) === 'cli');
    });
}

/** `given` says which flags the user typed: only those override an experiment file's fields. */
export async function runTrain(flags: TrainFlags, given: (flag: keyof ExperimentFlags) => boolean = () => true): Promise<void> {
  const backendName = backendChoice(flags.backend);
  const threads = threadsChoice(flags.threads);
  const resuming = flags.resume !== undefined;
  const staleAfterMs = lockMs(flags.lockSeconds ?? LOCK_DEFAULT);
  const out = resolve(flags.resume ?? flags.out ?? join('runs', new Date().toISOString().replace(/[:.]/g, '-')));
  // Fails here, before a folder is made or a backend loaded, without a checkpoint.
  if (resuming && !(await hasCheckpoint(out))) throw new CliError(NO_CHECKPOINT(out));
  // A resumed run keeps its own settings (the experiment: the same in every checkpoint of the run).
  const run = resuming ? await readCheckpointConfig(out) : await experimentFromFlags(flags, given);
  // Composed (the dataset prepared on first use) before the run folder is made: bad data leaves no folder.
  const composed = await compose(run, flags.json === true);
  if (run.experiment.batchSize > composed.train.length) throw new CliError(`--batch-size ${run.experiment.batchSize} is larger than the training split (${composed.train.length} images)`);
  // The run folder is this process's alone while it trains: a second writer is refused, naming this one.
  const { created } = await prepareOutputFolder(out);
  let claim: FolderClaim | undefined;
  try {
    claim = await claimFolder(out, { purpose: 'train', staleAfterMs });
    // The checkpoint's weights and position are read once the folder is ours (setUpModel): the ones its last writer left.
    await trainInto(claim, run, composed, { ...flags, backend: backendName, threads });
  } finally {
    await claim?.release();
    if (created) await removeEmptyFolders(out, created); // a failure before anything was written leaves no empty run folder
  }
}

/** Trains `run` into the run folder `claim` holds, writing only while the claim is ours. */
async function trainInto(claim: FolderClaim, run: RunConfig, composed: ComposedExperiment, flags: Omit<TrainFlags, 'backend' | 'threads'> & { backend: BackendChoice; threads: number | undefined }): Promise<void> {
  const out = claim.folder;
  const resuming = flags.resume !== undefined;
  const { experiment } = run;
  const log = (line: string): void => console.log(line);
  const started = performance.now();

  const { train, validation } = composed;

  const { backend, model, resume } = await setUpModel(flags.backend, flags.threads, composed.createModel, resuming ? out : undefined, flags.json ? () => undefined : log);
  // What evaluate and predict need to feed the model as it was trained: class names, pixel normalisation.
  model.setUserDefinedMetadata({ classes: [...train.classes], ...(experiment.normalize && { normalize: experiment.normalize }) });
  if (!resuming) {
    await writeRunExperiment(claim, { source: run.source, ...experiment });
    await claim.writeFile(runFile(out, 'samples'), await imageGrid(train, Math.min(64, train.length), 16));
  }
  const liveEvents = new Subject<TrainingEvent>();
  const dashboard = flags.dashboard === undefined || flags.dashboard === false
    ? undefined
    : await openDashboard({ runsDir: dirname(out), host: '127.0.0.1', port: flags.dashboard === true ? String(DEFAULT_DASHBOARD_PORT) : flags.dashboard, live: { run: basename(out), events: liveEvents, stepsPerEpoch: Math.ceil(train.length / experiment.batchSize) } });
  if (dashboard) console.error(`dashboard: ${dashboard.url} (this run is ${basename(out)}; it closes when training ends)`);

  // First Ctrl-C (or SIGTERM): finish the step, checkpoint, exit 130/143. Second: exit at once;
  // checkpoints are written by renames, so that cannot leave a broken one behind. One Ctrl-C can
  // arrive twice within a millisecond or two (from the terminal, and from npm forwarding it, for
  // `npm start`): a repeat that close is the same keypress, not a second one.
  const stop = new Subject<void>();
  let signal: keyof typeof SIGNAL_EXIT_CODES | undefined;
  let signalledAt = -Infinity;
  const onSignal = (name: keyof typeof SIGNAL_EXIT_CODES) => () => {
    const now = performance.now();
    const repeat = name === signal && now - signalledAt < SAME_KEYPRESS_MS;
    signalledAt = now;
    if (repeat) return;
    if (signal) process.exit(SIGNAL_EXIT_CODES[signal]);
    signal = name;
    console.error(`\nrxvision: ${name}: stopping after the current step and writing a checkpoint (again to quit at once)`);
    stop.next();
  };
  const handlers = { SIGINT: onSignal('SIGINT'), SIGTERM: onSignal('SIGTERM') };
  process.on('SIGINT', handlers.SIGINT).on('SIGTERM', handlers.SIGTERM);

  const stepsPerEpoch = Math.ceil(train.length / experiment.batchSize);
  const epochs = scheduleEpochs(experiment.schedule);
  const history: EpochRecord[] = [...(resume?.history ?? [])];
  let bar = progressBar('', { enabled: false });
  let epochStarted = 0;
  let epochSamples = 0;
  let stopped = false;
  let ended: Extract<TrainingEvent, { type: 'end' }> | undefined;
  if (flags.tensorboard !== undefined && !flags.json) log(`TensorBoard event files go into ${resolve(flags.tensorboard)} (see them with: tensorboard --logdir ${resolve(flags.tensorboard)})`);
  try {
    await lastValueFrom(
      fit(model, {
        ...composed.fitOptions,
        ...(resume && { resume }),
        stop,
        checkpoint: (state) => saveCheckpoint(claim, run, state, model),
      }).pipe(
        tap((event) => liveEvents.next(event)),
        flags.tensorboard === undefined ? identity : writeTensorBoard(flags.tensorboard, { stepsPerEpoch, settings: `\`\`\`json\n${JSON.stringify(experiment, null, 2)}\n\`\`\`` }),
        tap((event) => {
          // Taken over (this process was frozen past its lock): stop at once, writing nothing more.
          if (claim.signal.aborted) throw claim.signal.reason;
          if (event.type === 'batch') {
            if (event.step === 1 || !bar.active) {
              bar = progressBar(`epoch ${event.epoch}/${epochs}`, { enabled: !flags.json });
              epochStarted = performance.now();
              epochSamples = 0;
            }
            epochSamples += event.size;
            const rate = epochSamples / ((performance.now() - epochStarted) / 1000);
            bar.update(event.step, stepsPerEpoch, `loss ${event.loss.toFixed(4)} | ${rate.toFixed(0)} samples/s`);
          } else if (event.type === 'epoch') {
            bar.stop();
            log(flags.json ? JSON.stringify({ ...event.record, tensors: memory().numTensors, rssMb: Math.round(process.memoryUsage().rss / 1e6) }) : epochLine(event.record));
          } else if (event.type === 'stopped') {
            bar.stop();
            stopped = true;
          } else if (event.type === 'end') {
            ended = event;
            if (!flags.json && event.reason !== 'completed') log(event.reason === 'early-stopping' ? `stopped early after epoch ${event.history.at(-1)?.epoch}: ${experiment.earlyStopping?.monitor} did not get better for ${experiment.earlyStopping?.patience} epochs` : `stopped after epoch ${event.history.at(-1)?.epoch}: the next epoch would end past the time budget (${experiment.timeBudgetSeconds} s)`);
            if (!flags.json && event.bestEpoch !== undefined) log(`kept the weights of epoch ${event.bestEpoch}, the best`);
          }
        }),
        // The history on disk grows epoch by epoch, so an interrupted run keeps what it did.
        concatMap(async (event) => {
          if (event.type === 'epoch') {
            history.push(event.record);
            await writeHistory(claim, history);
          }
          return event;
        }),
      ),
    );
  } finally {
    bar.stop();
    process.off('SIGINT', handlers.SIGINT).off('SIGTERM', handlers.SIGTERM);
    liveEvents.complete();
    if (resume?.optimizerWeights) dispose(resume.optimizerWeights.map((w) => w.tensor));
    if (resume?.best) dispose([...resume.best.weights]);
  }
  if (stopped) {
    model.dispose();
    await dashboard?.close();
    throw new CliError(`interrupted; checkpoint written: continue with rxvision train --resume ${out}`, SIGNAL_EXIT_CODES[signal ?? 'SIGINT']);
  }

  await model.save(fileSystemSaver(runFile(out, 'model'), { beforeRename: claim.check }));
  await claim.writeFile(runFile(out, 'loss'), await renderPng(lossChart(history)));
  await claim.writeFile(runFile(out, 'accuracy'), await renderPng(accuracyChart(history)));
  const test = composed.testBatches && (await lastValueFrom(evaluate(model, composed.testBatches(), composed.fitOptions.metrics)));
  if (test) await claim.writeFile(runFile(out, 'confusionMatrix'), await renderPng(confusionMatrixChart(test.confusion, train.classes)));
  const summary = {
    experiment: run.source,
    ...(experiment.description && { description: experiment.description }),
    architecture: architecture(experiment, train.shape, train.classes.length),
    parameters: model.countParams(),
    ...(experiment.model.type === 'tutorial' && { outputRelu: experiment.model.outputRelu ?? true }),
    schedule: experiment.schedule,
    ...(Array.isArray(experiment.schedule) && { learningRates: experiment.schedule.map((phase) => phase.learningRate) }),
    optimizer: experiment.optimizer,
    epochs,
    ...(ended && ended.reason !== 'completed' && { ended: ended.reason, epochsRun: history.length }),
    ...(ended?.bestEpoch !== undefined && { bestEpoch: ended.bestEpoch }),
    batchSize: experiment.batchSize,
    seed: experiment.seed,
    split: { train: train.length, validation: validation.length, ...(test && { test: test.confusion.counts.reduce((sum, count) => sum + count, 0) }) },
    ...(test && {
      test: {
        loss: test.loss,
        accuracy: test.accuracy,
        ...test.metrics,
        perClassAccuracy: Object.fromEntries(perClassAccuracy(test.confusion).map((a, c) => [train.classes[c], a])),
      },
    }),
    lossAveraging: 'per sample over the whole split',
    backend: { name: backend.backend, package: backend.package, gpu: backend.gpu, ...(backend.threads !== undefined && { threads: backend.threads }) },
    seconds: (performance.now() - started) / 1000,
    trainingSeconds: history.reduce((sum, row) => sum + row.seconds, 0),
  };
  await writeSummary(claim, summary);
  await composed.close();
  await dashboard?.close(); // after the summary, so that the page shows the run finished (a failure ends the process, and the server with it)
  const final = test ? `test_loss: ${test.loss.toFixed(4)}, test_acc: ${test.accuracy.toFixed(4)}${Object.entries(test.metrics).map(([name, value]) => `, test_${name}: ${value.toFixed(4)}`).join('')}` : 'no test split';
  log(flags.json ? JSON.stringify(summary) : `${final} — wrote ${out}`);
  model.dispose();
}

/** dataset → split → stream → model factory, preparing the dataset (with a progress bar) on first use. */
async function compose(run: RunConfig, quiet: boolean): Promise<ComposedExperiment> {
  const bar = progressBar('prepare', quiet ? { unit: 'bytes', enabled: false } : { unit: 'bytes' });
  try {
    return await composeExperiment(run.experiment, { source: run.source, onPrepareProgress: ({ bytes, totalBytes }) => bar.update(bytes, totalBytes) });
  } finally {
    bar.stop();
  }
}

function epochLine(r: EpochRecord): string {
  const metrics = Object.entries(r.metrics ?? {}).map(([name, value]) => `, val_${name}: ${value.toFixed(4)}`).join('');
  return `Epoch [${r.epoch}], train_loss: ${r.trainLoss.toFixed(4)}, val_loss: ${r.valLoss.toFixed(4)}, val_acc: ${r.valAccuracy.toFixed(4)}${metrics} (${r.seconds.toFixed(1)} s)`;
}

/** The tutorial's as its layer widths; any other model as its settings. */
function architecture(experiment: Experiment, shape: readonly number[], classes: number): string {
  const { type, ...settings } = experiment.model;
  if (type === 'tutorial') return `${shape.reduce((a, b) => a * b, 1)}→${TUTORIAL_HIDDEN_UNITS.join('→')}→${classes}`;
  return `${type} ${JSON.stringify(settings)} on ${shape.join('×')} → ${classes} classes`;
}

/** The backend, then the model: new, or with the weights of the checkpoint in `resumeFrom`. */
async function setUpModel(backendName: BackendChoice, threads: number | undefined, createModel: () => LayersModel, resumeFrom: string | undefined, log: (line: string) => void) {
  // A backend that lacks a kernel this model's training needs is passed over (auto) or refused.
  const probe = () => {
    const candidate = createModel();
    try {
      probeTraining(candidate);
    } finally {
      candidate.dispose();
    }
  };
  const backend = await selectBackend(backendName, { probe, ...(threads !== undefined && { threads }) });
  log(backend.summary);
  const model = createModel();
  if (resumeFrom === undefined) return { backend, model, resume: undefined };
  const { resume } = await loadCheckpoint(resumeFrom, model);
  log(`resuming ${resumeFrom} at epoch ${resume.position.epoch}, step ${resume.position.step}`);
  return { backend, model, resume };
}
